;; Arithmetic in the ring Z/2^128 (secure aggregation's masks and sums, src/math/ring128.ts):
;; each element is 16 little-endian bytes, two 64-bit limbs. JavaScript has no 64-bit integers
;; short of BigInt, and its 32-bit carry chains run some 3 times slower than these i64 ones.
;;
;; The caller copies its operands into this module's memory, calls, and copies the result out;
;; the memory never grows, so the caller's views of it stay valid.
;;
;; Compiled by scripts/build-wasm.mjs (wabt) into ring128Wasm.ts, which a test checks is this
;; source's compilation.
(module
  (memory (export "memory") 8)

  ;; out[i] = a[i] + s·b[i] (mod 2^128) for i < n, s ∈ {1, −1} given as the mask x (0 for +1,
  ;; −1 for −1: −b = (b xor −1) + 1, so the term adds (b xor x) with a carry of x & 1). out may
  ;; be a: each element is read whole before it is written.
  (func (export "addSigned")
    (param $out i32) (param $a i32) (param $b i32) (param $n i32) (param $xi i32)
    (local $end i32) (local $x i64) (local $c i64)
    (local $lo i64) (local $t i64) (local $s i64)
    (local.set $x (i64.extend_i32_s (local.get $xi)))
    (local.set $c (i64.and (local.get $x) (i64.const 1)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $lo (i64.load (local.get $a)))
        (local.set $t
          (i64.add (local.get $lo) (i64.xor (i64.load (local.get $b)) (local.get $x))))
        (local.set $s (i64.add (local.get $t) (local.get $c)))
        (i64.store offset=8 (local.get $out)
          (i64.add
            (i64.add
              (i64.load offset=8 (local.get $a))
              (i64.xor (i64.load offset=8 (local.get $b)) (local.get $x)))
            (i64.extend_i32_u
              (i32.or
                (i64.lt_u (local.get $t) (local.get $lo))
                (i64.lt_u (local.get $s) (local.get $t))))))
        (i64.store (local.get $out) (local.get $s))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $next))))

  ;; out[i] = a[i] + s1·b1[i] + s2·b2[i] (mod 2^128) for i < n, s1, s2 ∈ {1, −1} given as the
  ;; masks x1, x2 (0 for +1, −1 for −1): −b = (b xor −1) + 1 in two's complement, so each term
  ;; adds (b xor x) with a carry of x & 1 into the low limb. out may be a.
  (func (export "addSigned2")
    (param $out i32) (param $a i32) (param $b1 i32) (param $b2 i32) (param $n i32)
    (param $x1i i32) (param $x2i i32)
    (local $end i32) (local $x1 i64) (local $c1 i64) (local $x2 i64) (local $c2 i64)
    (local $lo i64) (local $hi i64) (local $t i64) (local $s i64)
    (local.set $x1 (i64.extend_i32_s (local.get $x1i)))
    (local.set $c1 (i64.and (local.get $x1) (i64.const 1)))
    (local.set $x2 (i64.extend_i32_s (local.get $x2i)))
    (local.set $c2 (i64.and (local.get $x2) (i64.const 1)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $lo (i64.load (local.get $a)))
        (local.set $hi (i64.load offset=8 (local.get $a)))
        ;; + s1·b1: t = lo + (b xor x), s = t + c; the carry into the high limb is 1 when
        ;; either addition wrapped (both cannot: t wraps only if t ≤ 2^64 − 2).
        (local.set $t
          (i64.add (local.get $lo) (i64.xor (i64.load (local.get $b1)) (local.get $x1))))
        (local.set $s (i64.add (local.get $t) (local.get $c1)))
        (local.set $hi
          (i64.add
            (i64.add (local.get $hi) (i64.xor (i64.load offset=8 (local.get $b1)) (local.get $x1)))
            (i64.extend_i32_u
              (i32.or
                (i64.lt_u (local.get $t) (local.get $lo))
                (i64.lt_u (local.get $s) (local.get $t))))))
        (local.set $lo (local.get $s))
        ;; + s2·b2, the same way.
        (local.set $t
          (i64.add (local.get $lo) (i64.xor (i64.load (local.get $b2)) (local.get $x2))))
        (local.set $s (i64.add (local.get $t) (local.get $c2)))
        (local.set $hi
          (i64.add
            (i64.add (local.get $hi) (i64.xor (i64.load offset=8 (local.get $b2)) (local.get $x2)))
            (i64.extend_i32_u
              (i32.or
                (i64.lt_u (local.get $t) (local.get $lo))
                (i64.lt_u (local.get $s) (local.get $t))))))
        (i64.store (local.get $out) (local.get $s))
        (i64.store offset=8 (local.get $out) (local.get $hi))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b1 (i32.add (local.get $b1) (i32.const 16)))
        (local.set $b2 (i32.add (local.get $b2) (i32.const 16)))
        (br $next))))
)
