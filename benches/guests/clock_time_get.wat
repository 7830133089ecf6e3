;; clock_time_get.wat: 10_000 calls of clock_time_get(monotonic, precision 1 ns).
;; Measures the per-syscall cost of a call that touches no descriptor. Traps
;; (unreachable) if a call fails or the clock goes backwards.
(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  ;; Memory map: 0 the time read (u64).
  (func (export "_start")
    (local $i i32) (local $last i64)
    (local.set $i (i32.const 10000))
    (loop $again
      ;; clock id 1 = monotonic
      (if (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 0))
        (then unreachable))
      (if (i64.lt_u (i64.load (i32.const 0)) (local.get $last))
        (then unreachable))
      (local.set $last (i64.load (i32.const 0)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $again (local.get $i)))))
