;; hello_hostcalls.wat: ../examples/hello.wat with six host-function imports beside WASI.
(module
  ;; Six host functions, imported beside WASI (not called: this measures instantiation).
  (import "kv" "put" (func $put (param i32 i32 i32 i32) (result i32)))
  (import "kv" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "env" "log" (func $log (param i32 i32 i32)))
  (import "env" "scale" (func $scale (param f64 f32) (result f64)))
  (import "env" "negate" (func $negate (param i32) (result i32)))
  (import "env" "mix" (func $mix (param i32 i64 i64) (result i64)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Memory map: 0 argc, 4 size of the argument strings, 16 one iovec, 24 bytes written,
  ;; 64 and 80 constant strings, 1024 argv[], 4096 argument strings, 8192 the output line.
  (data (i32.const 64) "hello, ")
  (data (i32.const 80) "world")

  ;; Copies the NUL-terminated string at $src to $dst; returns the end of the copy.
  (func $append (param $dst i32) (param $src i32) (result i32)
    (block $done
      (loop $copy
        (br_if $done (i32.eqz (i32.load8_u (local.get $src))))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (br $copy)))
    (local.get $dst))

  (func (export "_start")
    (local $out i32) (local $i i32) (local $argc i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (local.set $argc (i32.load (i32.const 0)))
    (local.set $out (call $append (i32.const 8192) (i32.const 64)))
    (if (i32.and
          (i32.gt_u (local.get $argc) (i32.const 1))
          (i32.and (i32.le_u (local.get $argc) (i32.const 700))
                   (i32.le_u (i32.load (i32.const 4)) (i32.const 4096))))
      (then
        (drop (call $args_get (i32.const 1024) (i32.const 4096)))
        (local.set $i (i32.const 1))
        (loop $each
          (if (i32.gt_u (local.get $i) (i32.const 1))
            (then
              (i32.store8 (local.get $out) (i32.const 32))
              (local.set $out (i32.add (local.get $out) (i32.const 1)))))
          (local.set $out
            (call $append (local.get $out)
              (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $each (i32.lt_u (local.get $i) (local.get $argc)))))
      (else
        (local.set $out (call $append (local.get $out) (i32.const 80)))))
    (i32.store16 (local.get $out) (i32.const 0x0a21)) ;; "!\n"
    (local.set $out (i32.add (local.get $out) (i32.const 2)))
    (i32.store (i32.const 16) (i32.const 8192))
    (i32.store (i32.const 20) (i32.sub (local.get $out) (i32.const 8192)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))
