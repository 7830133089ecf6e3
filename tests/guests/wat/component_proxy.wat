;; A component that is not a command: it exports a wasi:http handler (the wasi:http/proxy
;; world), not wasi:cli/run.
(component
  (core module $m (func (export "h")))
  (core instance $i (instantiate $m))
  (func $h (canon lift (core func $i "h")))
  (instance $inst (export "handle" (func $h)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $inst)))
