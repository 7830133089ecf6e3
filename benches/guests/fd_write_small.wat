;; fd_write_small.wat: 10_000 calls of fd_write writing 1 byte to stdout (fd 1).
;; Measures the per-syscall cost of small writes. Traps (unreachable) if any call
;; fails or writes anything but 1 byte, so a run that returns did all 10_000 writes.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; Memory map: 0 one iovec {buf, len}, 8 bytes written, 16 the byte.
  (data (i32.const 16) "x")
  (func (export "_start")
    (local $i i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 1))
    (local.set $i (i32.const 10000))
    (loop $again
      (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
        (then unreachable))
      (if (i32.ne (i32.load (i32.const 8)) (i32.const 1))
        (then unreachable))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $again (local.get $i)))))
