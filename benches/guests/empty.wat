;; empty.wat: a command whose _start returns at once. Its run time is the fixed cost of
;; one run (context, store, instantiation, call), to subtract from the other benchmarks.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
