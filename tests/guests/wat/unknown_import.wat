;; Imports a function nobody provides: linking must fail naming module and field.
(module
  (import "env" "not_provided" (func $missing (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $missing (i32.const 1))))
