;; A WASI 0.2 command component that exits with `exit-with-code` (wasi:cli 0.2.12): status 7.
(component
  (import "wasi:cli/exit@0.2.12" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (core module $m
    (import "exit" "code" (func $code (param i32)))
    (func (export "run") (result i32)
      (call $code (i32.const 7))
      (i32.const 0)))
  (core func $code (canon lower (func $exit "exit-with-code")))
  (core instance $i (instantiate $m (with "exit" (instance (export "code" (func $code))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $runner (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $runner)))
