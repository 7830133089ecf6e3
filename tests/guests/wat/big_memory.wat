;; Asks for 256 pages (16 MiB) of initial memory: refused under a smaller max heap.
(module
  (memory (export "memory") 256)
  (func (export "_start")))
