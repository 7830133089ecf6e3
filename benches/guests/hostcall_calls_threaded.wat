;; hostcall_calls_threaded.wat: hostcall_calls.wat in a threaded module (a shared memory; `icount hostcall 1 <this>`): 10_000 iterations of kv.put(key, value) and env.log(level, msg),
;; host functions that read a guest string and bytes. Traps (unreachable) if put does
;; not return the running count, so a run that returns made all 20_000 calls.
(module
  (import "kv" "put" (func $put (param i32 i32 i32 i32) (result i32)))
  (import "env" "log" (func $log (param i32 i32 i32)))
  (import "env" "memory" (memory 1 1 shared))
  (data (i32.const 16) "colour")
  (data (i32.const 32) "blue")
  (data (i32.const 48) "a line of log text")
  (global $count (mut i32) (i32.const 0))
  (func (export "_start")
    (local $i i32)
    (global.set $count (i32.const 0))
    (local.set $i (i32.const 10000))
    (loop $again
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (if (i32.ne (call $put (i32.const 16) (i32.const 6) (i32.const 32) (i32.const 4))
                  (global.get $count))
        (then unreachable))
      (call $log (i32.const 2) (i32.const 48) (i32.const 18))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $again (local.get $i)))))
