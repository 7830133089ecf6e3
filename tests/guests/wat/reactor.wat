;; reactor.wat: a library-style module with no _start, called export by export.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from the reactor")
  (global $calls (mut i32) (i32.const 0))

  ;; add(a, b) = a + b, counting calls.
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.add (local.get $a) (local.get $b)))

  ;; How many times `add` ran in this instance.
  (func (export "calls") (result i32) (global.get $calls))

  ;; Copies the greeting to `dst`; returns its length.
  (func (export "greet") (param $dst i32) (result i32)
    (memory.copy (local.get $dst) (i32.const 0) (i32.const 22))
    (i32.const 22))

  ;; Exits the whole guest with `status`.
  (func (export "quit") (param $status i32) (call $exit (local.get $status))))
