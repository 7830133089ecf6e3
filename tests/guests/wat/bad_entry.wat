;; Exports `_start` with a parameter and `add` as a reactor function.
(module
  (memory (export "memory") 1)
  (func (export "_start") (param i32))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
