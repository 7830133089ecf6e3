;; Imports host functions beside WASI: `env::log(ptr, len)` records a guest string,
;; `env::add(a, b) -> a + b`, `env::fail()` makes the host function fail.
(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "add" (func $add (param i64 i64) (result i64)))
  (import "env" "fail" (func $fail))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hello host")
  (func (export "_start")
    (call $log (i32.const 100) (i32.const 10))
    (call $exit (i32.wrap_i64 (call $add (i64.const 40) (i64.const 2)))))
  (func (export "log_out_of_bounds") (call $log (i32.const 65530) (i32.const 100)))
  (func (export "fail") (call $fail)))
