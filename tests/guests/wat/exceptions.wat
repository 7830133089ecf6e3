;; Wasm 3.0 exception handling: tags with payloads thrown across frames, caught by
;; try_table (catch, catch_ref, catch_all), rethrown with throw_ref.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (tag $small (param i32))
  (tag $pair (param i32 i64))
  (data (i32.const 1024) "caught small: ")
  (data (i32.const 1040) "caught pair: ")
  (data (i32.const 1056) "rethrown small: ")
  (data (i32.const 1080) "caught by catch_all: ")
  ;; $print writes memory[ptr, ptr+len) to stdout; $num writes a signed decimal and "\n".
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $num (param $v i64)
    (local $p i32) (local $neg i32)
    (local.set $p (i32.const 1000))
    (i32.store8 (local.get $p) (i32.const 10))
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then (local.set $neg (i32.const 1))
            (local.set $v (i64.sub (i64.const 0) (local.get $v)))))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
    (if (local.get $neg)
      (then (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (i32.store8 (local.get $p) (i32.const 45))))
    (call $print (local.get $p) (i32.sub (i32.const 1001) (local.get $p))))

  ;; kind 0 throws $small 42, kind 1 throws $pair (7, 1234567890123), from `depth`
  ;; frames down.
  (func $deep (param $depth i32) (param $kind i32)
    (if (local.get $depth)
      (then
        (call $deep (i32.sub (local.get $depth) (i32.const 1)) (local.get $kind))
        (return)))
    (if (i32.eqz (local.get $kind)) (then (throw $small (i32.const 42))))
    (throw $pair (i32.const 7) (i64.const 1234567890123)))

  (func $catch_small (result i32)
    (block $h (result i32)
      (try_table (catch $small $h)
        (call $deep (i32.const 10) (i32.const 0)))
      (i32.const -1)))

  (func $catch_pair (result i32 i64)
    (block $h (result i32 i64)
      (try_table (catch $pair $h)
        (call $deep (i32.const 5) (i32.const 1)))
      (i32.const -1) (i64.const -1)))

  ;; Catches $small with its exnref in a frame of its own, drops the payload and
  ;; rethrows the same exception with throw_ref.
  (func $catch_and_rethrow
    (block $inner (result i32 exnref)
      (try_table (catch_ref $small $inner)
        (call $deep (i32.const 3) (i32.const 0)))
      (return))
    throw_ref)

  (func $rethrown (result i32)
    (block $h (result i32)
      (try_table (catch $small $h)
        (call $catch_and_rethrow))
      (i32.const -1)))

  ;; catch_all_ref, then throw_ref, then catch_all.
  (func $catch_all (result i32)
    (block $all
      (try_table (catch_all $all)
        (block $r (result exnref)
          (try_table (catch_all_ref $r)
            (call $deep (i32.const 4) (i32.const 1)))
          (return (i32.const -1)))
        throw_ref))
    (i32.const 1))

  (func (export "_start")
    (local $b i64)
    (call $print (i32.const 1024) (i32.const 14))
    (call $num (i64.extend_i32_s (call $catch_small)))
    (call $print (i32.const 1040) (i32.const 13))
    (local.set $b (call $catch_pair))
    (call $num (i64.extend_i32_s))
    (call $print (i32.const 1040) (i32.const 13))
    (call $num (local.get $b))
    (call $print (i32.const 1056) (i32.const 16))
    (call $num (i64.extend_i32_s (call $rethrown)))
    (call $print (i32.const 1080) (i32.const 21))
    (call $num (i64.extend_i32_s (call $catch_all))))
)
