;; A command component that imports wasi:http, which lucet-wasi does not provide: refused at link.
(component
  (import "wasi:http/outgoing-handler@0.2.0" (instance $h (export "handle" (func))))
  (core module $m (func (export "run") (result i32) (i32.const 0)))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $runner (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $runner)))
