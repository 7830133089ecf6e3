;; fib.wat: compute-bound guest, no syscalls. Recursive fib(27) (about 630_000 calls),
;; checked against 196418 (traps otherwise). Measures generated code, not WASI.
(module
  (memory (export "memory") 1)
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "_start")
    (if (i32.ne (call $fib (i32.const 27)) (i32.const 196418))
      (then unreachable))))
