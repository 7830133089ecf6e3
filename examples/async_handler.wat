;; The request handler of examples/async_server.rs: reads an item name from stdin, asks
;; the host how many are in stock (env.stock, an async host function), and writes
;; "<item>: <count> in stock" to stdout.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "env" "stock" (func $stock (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 3100) " in stock\n")
  (func (export "_start")
    (local $n i32) (local $count i32) (local $digits i32) (local $out i32) (local $len i32)
    ;; Read the request into 1024..1536 (iovec at 0, bytes read at 8).
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 512))
    (if (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
      (then unreachable))
    (local.set $n (i32.load (i32.const 8)))
    ;; Without its newline.
    (if (i32.and (i32.gt_u (local.get $n) (i32.const 0))
                 (i32.eq (i32.load8_u (i32.add (i32.const 1023) (local.get $n))) (i32.const 10)))
      (then (local.set $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.set $count (call $stock (i32.const 1024) (local.get $n)))
    ;; The count in decimal, backwards from 3000.
    (local.set $digits (i32.const 3000))
    (loop $digit
      (local.set $digits (i32.sub (local.get $digits) (i32.const 1)))
      (i32.store8 (local.get $digits)
        (i32.add (i32.const 48) (i32.rem_u (local.get $count) (i32.const 10))))
      (local.set $count (i32.div_u (local.get $count) (i32.const 10)))
      (br_if $digit (local.get $count)))
    ;; "<item>: <count> in stock\n" at 2048.
    (memory.copy (i32.const 2048) (i32.const 1024) (local.get $n))
    (local.set $out (i32.add (i32.const 2048) (local.get $n)))
    (i32.store16 (local.get $out) (i32.const 0x203a)) ;; ": "
    (local.set $out (i32.add (local.get $out) (i32.const 2)))
    (local.set $len (i32.sub (i32.const 3000) (local.get $digits)))
    (memory.copy (local.get $out) (local.get $digits) (local.get $len))
    (local.set $out (i32.add (local.get $out) (local.get $len)))
    (memory.copy (local.get $out) (i32.const 3100) (i32.const 10))
    (local.set $out (i32.add (local.get $out) (i32.const 10)))
    ;; Write it (iovec at 16, bytes written at 24).
    (i32.store (i32.const 16) (i32.const 2048))
    (i32.store (i32.const 20) (i32.sub (local.get $out) (i32.const 2048)))
    (if (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))
      (then unreachable))))
