;; Host functions with owned results (those of tests/suite/owned.rs) against an allocator
;; that misbehaves as `$mode` says, and return areas that are bad; one export per case.
(module
  (import "env" "greet" (func $greet (param i32 i32 i32)))
  (import "kv" "lookup" (func $lookup (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "colour")
  (data (i32.const 32) "you")
  ;; 0: a bump allocator from 1024; 1: out of memory (0); 2: a pointer past the end of
  ;; memory; 3: a trap; 4: a pointer to odd addresses.
  (global $mode (mut i32) (i32.const 0))
  (global $next (mut i32) (i32.const 1024))
  (global $calls (mut i32) (i32.const 0))
  (func $cabi_realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.eq (global.get $mode) (i32.const 1)) (then (return (i32.const 0))))
    (if (i32.eq (global.get $mode) (i32.const 2)) (then (return (i32.const 0xfffff000))))
    (if (i32.eq (global.get $mode) (i32.const 3)) (then unreachable))
    (if (i32.eq (global.get $mode) (i32.const 4)) (then (return (i32.const 1025))))
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 3)))
    (local.get $p))
  ;; greet("you") into the return area at 8: returns the length written there, after
  ;; checking that the pointer is where the allocator put it.
  (func (export "greet") (result i32)
    (call $greet (i32.const 32) (i32.const 3) (i32.const 8))
    (if (i32.ne (i32.load (i32.const 8)) (i32.const 1024)) (then unreachable))
    (i32.load (i32.const 12)))
  ;; A missing key: 0, the return area untouched, no allocation.
  (func (export "lookup_missing") (result i32)
    (i32.store (i32.const 8) (i32.const 77))
    (i32.add
      (call $lookup (i32.const 32) (i32.const 3) (i32.const 8))
      (i32.add (i32.load (i32.const 8)) (global.get $calls))))
  (func (export "fails") (global.set $mode (i32.const 1))
    (call $greet (i32.const 32) (i32.const 3) (i32.const 8)))
  (func (export "outside") (global.set $mode (i32.const 2))
    (call $greet (i32.const 32) (i32.const 3) (i32.const 8)))
  (func (export "traps") (global.set $mode (i32.const 3))
    (call $greet (i32.const 32) (i32.const 3) (i32.const 8)))
  ;; Odd addresses are fine for bytes: no check but the bounds.
  (func (export "odd") (result i32) (global.set $mode (i32.const 4))
    (call $greet (i32.const 32) (i32.const 3) (i32.const 8))
    (i32.load (i32.const 8)))
  ;; Return areas past the end of memory, and misaligned: refused before the call.
  (func (export "area_outside") (call $greet (i32.const 32) (i32.const 3) (i32.const 65532)))
  (func (export "area_misaligned") (call $greet (i32.const 32) (i32.const 3) (i32.const 6)))
  (func (export "calls") (result i32) (global.get $calls)))
