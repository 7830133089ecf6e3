;; Hands host functions bad arguments, one export per case; the host functions are those
;; of tests/hostcall.rs.
(module
  (import "env" "log" (func $log (param i32 i32 i32)))
  (import "kv" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "env" "centroid" (func $centroid (param i32 i32 i32) (result i32)))
  (import "env" "negate" (func $negate (param i32) (result i32)))
  (import "env" "checked_div" (func $div (param i32 i32) (result i32)))
  (import "env" "boom" (func $boom))
  (memory (export "memory") 1)
  (data (i32.const 16) "colour\ff\fe")
  ;; Past the end of the 64 KiB memory.
  (func (export "out_of_bounds") (call $log (i32.const 1) (i32.const 65530) (i32.const 100)))
  ;; Pointer + length wraps around 32 bits.
  (func (export "overflow") (call $log (i32.const 1) (i32.const 0xffffff00) (i32.const 0x200)))
  ;; Not UTF-8.
  (func (export "not_utf8") (call $log (i32.const 1) (i32.const 16) (i32.const 8)))
  ;; The written `out` overlaps the borrowed `key`.
  (func (export "overlap") (drop (call $get (i32.const 16) (i32.const 6) (i32.const 20) (i32.const 8))))
  ;; A `&[Point]` at an address not aligned for f32.
  (func (export "misaligned") (drop (call $centroid (i32.const 17) (i32.const 1) (i32.const 64))))
  ;; A huge count of points: its byte length overflows.
  (func (export "too_many") (drop (call $centroid (i32.const 16) (i32.const 0x7fffffff) (i32.const 64))))
  ;; Any non-zero i32 is `true`.
  (func (export "negate7") (result i32) (call $negate (i32.const 7)))
  (func (export "div_by_zero") (drop (call $div (i32.const 1) (i32.const 0))))
  (func (export "boom") (call $boom))
  (func (export "fine") (result i32) (call $div (i32.const 7) (i32.const 2))))
