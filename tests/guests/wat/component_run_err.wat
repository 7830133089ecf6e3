;; A WASI 0.2 command component whose `wasi:cli/run` returns its error: a failed command.
(component
  (core module $m (func (export "run") (result i32) (i32.const 1)))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $runner (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $runner)))
