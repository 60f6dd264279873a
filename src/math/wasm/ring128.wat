;; Arithmetic in the ring Z/2^128 (secure aggregation's masks and sums, src/math/ring128.ts):
;; each element is 16 little-endian bytes, two 64-bit limbs. JavaScript has no 64-bit integers
;; short of BigInt, and its 32-bit carry chains run some 3 times slower than these i64 ones.
;; Also the fixed-point encoding of doubles into the ring (federation/secureAggregation/
;; fixedPoint.ts states the method: the same float64 steps, then i64 limbs).
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

  ;; Element at $out ← round(|x|·scale) in two's complement, negated when x < 0, for a finite
  ;; x; returns 0 (nothing written) when round(|x|·scale) ≥ limit, else 1. round is JavaScript's
  ;; Math.round (nearest, ties towards +∞): c = ceil(v), less one when c − 0.5 > v (exact for
  ;; |v| < 2^52; beyond, v is whole and c = v), chosen by select (fractions fall either side of
  ;; 0.5 value to value). The magnitude n < 2^127 splits exactly into hi = floor(n·2^-64) and
  ;; lo = n − hi·2^64 (power-of-two scalings, floor, and the subtraction of n's own high part are
  ;; exact), each a whole double below 2^64 that truncates exactly to an i64 limb; for x < 0,
  ;; −(hi·2^64 + lo) = (hi xor −1)·2^64 + (0 − lo), with a carry into the high limb when lo = 0
  ;; (this branch on the sign ran faster than its branchless form: 9.4 against 10.3 ns a split
  ;; value of random sign).
  (func $write (param $out i32) (param $x f64) (param $scale f64) (param $limit f64) (result i32)
    (local $v f64) (local $n f64) (local $hi f64) (local $lo i64) (local $m i64)
    (local.set $v (f64.mul (f64.abs (local.get $x)) (local.get $scale)))
    (local.set $n (f64.ceil (local.get $v)))
    (local.set $n
      (select (f64.sub (local.get $n) (f64.const 1)) (local.get $n)
        (f64.gt (f64.sub (local.get $n) (f64.const 0.5)) (local.get $v))))
    (if (f64.ge (local.get $n) (local.get $limit)) (then (return (i32.const 0))))
    (local.set $hi (f64.floor (f64.mul (local.get $n) (f64.const 0x1p-64))))
    (local.set $lo
      (i64.trunc_f64_u (f64.sub (local.get $n) (f64.mul (local.get $hi) (f64.const 0x1p64)))))
    (local.set $m (i64.trunc_f64_u (local.get $hi)))
    (if (f64.lt (local.get $x) (f64.const 0))
      (then
        (local.set $m
          (i64.add
            (i64.xor (local.get $m) (i64.const -1))
            (i64.extend_i32_u (i64.eqz (local.get $lo)))))
        (local.set $lo (i64.sub (i64.const 0) (local.get $lo)))))
    (i64.store (local.get $out) (local.get $lo))
    (i64.store offset=8 (local.get $out) (local.get $m))
    (i32.const 1))

  ;; Encode the n doubles at $values as ring elements at scale 2^e ($scale = 2^e). Not split
  ;; ($fine < 0): element i at $coarse is round(x·2^e). Split: h = round(x·2^e)·2^-e ($inverse)
  ;; at $coarse, and the exact remainder x − h at scale $fineScale at $fine. Returns −1 when
  ;; every value was encoded; else 2i for value i not finite (not split: x, split: h is NaN) or
  ;; its coarse part at or beyond $limit, 2i + 1 for its fine part beyond it. Values before i
  ;; are written, those after it are not (value i's coarse part is, when its fine part fails).
  (func (export "encode")
    (param $values i32) (param $n i32) (param $scale f64) (param $inverse f64)
    (param $fineScale f64) (param $limit f64) (param $coarse i32) (param $fine i32)
    (result i32)
    (local $i i32) (local $x f64) (local $v f64) (local $h f64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (f64.load (i32.add (local.get $values) (i32.shl (local.get $i) (i32.const 3)))))
        (if (i32.lt_s (local.get $fine) (i32.const 0))
          (then
            ;; x − x is 0 for finite x, NaN for NaN and ±∞.
            (if (f64.ne (f64.sub (local.get $x) (local.get $x)) (f64.const 0))
              (then (return (i32.shl (local.get $i) (i32.const 1)))))
            (if (i32.eqz
                  (call $write
                    (i32.add (local.get $coarse) (i32.shl (local.get $i) (i32.const 4)))
                    (local.get $x) (local.get $scale) (local.get $limit)))
              (then (return (i32.shl (local.get $i) (i32.const 1))))))
          (else
            ;; h = round(x·2^e)·2^-e (Math.round inline, as in $write).
            (local.set $v (f64.mul (local.get $x) (local.get $scale)))
            (local.set $h (f64.ceil (local.get $v)))
            (local.set $h
              (select (f64.sub (local.get $h) (f64.const 1)) (local.get $h)
                (f64.gt (f64.sub (local.get $h) (f64.const 0.5)) (local.get $v))))
            (local.set $h (f64.mul (local.get $h) (local.get $inverse)))
            (if (f64.ne (f64.sub (local.get $h) (local.get $h)) (f64.const 0))
              (then (return (i32.shl (local.get $i) (i32.const 1)))))
            (if (i32.eqz
                  (call $write
                    (i32.add (local.get $coarse) (i32.shl (local.get $i) (i32.const 4)))
                    (local.get $h) (local.get $scale) (local.get $limit)))
              (then (return (i32.shl (local.get $i) (i32.const 1)))))
            (if (i32.eqz
                  (call $write
                    (i32.add (local.get $fine) (i32.shl (local.get $i) (i32.const 4)))
                    (f64.sub (local.get $x) (local.get $h)) (local.get $fineScale) (local.get $limit)))
              (then
                (return (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const -1))

  ;; 2^k as a double, for 0 ≤ k ≤ 1023 (its exponent field, mantissa zero).
  (func $pow2 (param $k i32) (result f64)
    (f64.reinterpret_i64
      (i64.shl (i64.extend_i32_u (i32.add (local.get $k) (i32.const 1023))) (i64.const 52))))

  ;; Decode n split pairs: element i is C·2^-e + F·2^-f with C at $coarse and F at $fine
  ;; signed 128-bit ring elements and $shift = f − e in 0 … 127, f ≥ 0 ($unscale = 2^-f). Each
  ;; V = C·2^shift + F is a 256-bit integer (|V| < 2^255; four i64 limbs v0 … v3, low first),
  ;; whose magnitude is rounded once to a double: its top 64 bits from its highest non-zero
  ;; limb, every lower bit folded into their last bit (sticky), converted (nearest, ties to
  ;; even: with the sticky bit below the rounding position this is the correct rounding of the
  ;; whole), scaled by the limbs' weight and by 2^-f (exact: powers of two, in range). The
  ;; doubles go to $out. fixedPoint.ts decodeSplit states the arithmetic.
  (func (export "decodeSplit")
    (param $coarse i32) (param $fine i32) (param $n i32) (param $shift i32) (param $unscale f64)
    (param $out i32)
    (local $end i32) (local $r i64) (local $q i32)
    (local $clo i64) (local $chi i64) (local $cs i64) (local $flo i64) (local $fhi i64) (local $fs i64)
    (local $v0 i64) (local $v1 i64) (local $v2 i64) (local $v3 i64)
    (local $u0 i64) (local $u1 i64) (local $u2 i64) (local $u3 i64)
    (local $t i64) (local $c i64) (local $negative i32)
    (local $top i64) (local $below i64) (local $sticky i64) (local $lz i64) (local $k i32)
    (local $m f64)
    (local.set $r (i64.extend_i32_u (i32.and (local.get $shift) (i32.const 63))))
    (local.set $q (i32.shr_u (local.get $shift) (i32.const 6)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $clo (i64.load (local.get $coarse)))
        (local.set $chi (i64.load offset=8 (local.get $coarse)))
        (local.set $cs (i64.shr_s (local.get $chi) (i64.const 63)))
        ;; C·2^r in four limbs (sign-extended); a shift by 64 − r is no shift when r = 0.
        (local.set $u0 (i64.shl (local.get $clo) (local.get $r)))
        (local.set $u1
          (i64.or (i64.shl (local.get $chi) (local.get $r))
            (select (i64.shr_u (local.get $clo) (i64.sub (i64.const 64) (local.get $r))) (i64.const 0)
              (i64.ne (local.get $r) (i64.const 0)))))
        (local.set $u2
          (i64.or (i64.shl (local.get $cs) (local.get $r))
            (select (i64.shr_u (local.get $chi) (i64.sub (i64.const 64) (local.get $r))) (i64.const 0)
              (i64.ne (local.get $r) (i64.const 0)))))
        (local.set $u3 (local.get $cs))
        ;; … then by q whole limbs (C·2^shift fits 255 bits: what leaves the top is sign).
        (if (local.get $q)
          (then
            (local.set $v0 (i64.const 0)) (local.set $v1 (local.get $u0))
            (local.set $v2 (local.get $u1)) (local.set $v3 (local.get $u2)))
          (else
            (local.set $v0 (local.get $u0)) (local.set $v1 (local.get $u1))
            (local.set $v2 (local.get $u2)) (local.set $v3 (local.get $u3))))
        ;; + F sign-extended, with carries (a + b + c wraps when a + b does or adding c does).
        (local.set $flo (i64.load (local.get $fine)))
        (local.set $fhi (i64.load offset=8 (local.get $fine)))
        (local.set $fs (i64.shr_s (local.get $fhi) (i64.const 63)))
        (local.set $t (i64.add (local.get $v0) (local.get $flo)))
        (local.set $c (i64.extend_i32_u (i64.lt_u (local.get $t) (local.get $v0))))
        (local.set $v0 (local.get $t))
        (local.set $t (i64.add (local.get $v1) (local.get $fhi)))
        (local.set $u0 (i64.extend_i32_u (i64.lt_u (local.get $t) (local.get $v1))))
        (local.set $v1 (i64.add (local.get $t) (local.get $c)))
        (local.set $c (i64.or (local.get $u0) (i64.extend_i32_u (i64.lt_u (local.get $v1) (local.get $t)))))
        (local.set $t (i64.add (local.get $v2) (local.get $fs)))
        (local.set $u0 (i64.extend_i32_u (i64.lt_u (local.get $t) (local.get $v2))))
        (local.set $v2 (i64.add (local.get $t) (local.get $c)))
        (local.set $c (i64.or (local.get $u0) (i64.extend_i32_u (i64.lt_u (local.get $v2) (local.get $t)))))
        (local.set $v3 (i64.add (i64.add (local.get $v3) (local.get $fs)) (local.get $c)))
        ;; |V|: the two's complement of every limb (xor −1, then + 1 carried up).
        (local.set $negative (i64.lt_s (local.get $v3) (i64.const 0)))
        (if (local.get $negative)
          (then
            (local.set $v0 (i64.sub (i64.const 0) (local.get $v0)))
            (local.set $c (i64.extend_i32_u (i64.eqz (local.get $v0))))
            (local.set $v1 (i64.add (i64.xor (local.get $v1) (i64.const -1)) (local.get $c)))
            (local.set $c (i64.and (local.get $c) (i64.extend_i32_u (i64.eqz (local.get $v1)))))
            (local.set $v2 (i64.add (i64.xor (local.get $v2) (i64.const -1)) (local.get $c)))
            (local.set $c (i64.and (local.get $c) (i64.extend_i32_u (i64.eqz (local.get $v2)))))
            (local.set $v3 (i64.add (i64.xor (local.get $v3) (i64.const -1)) (local.get $c)))))
        ;; The highest non-zero limb k, the one below it, and the sticky bits below that.
        (local.set $sticky (i64.const 0))
        (if (i64.ne (local.get $v3) (i64.const 0))
          (then
            (local.set $k (i32.const 3)) (local.set $top (local.get $v3)) (local.set $below (local.get $v2))
            (local.set $sticky (i64.or (local.get $v1) (local.get $v0))))
          (else
            (if (i64.ne (local.get $v2) (i64.const 0))
              (then
                (local.set $k (i32.const 2)) (local.set $top (local.get $v2)) (local.set $below (local.get $v1))
                (local.set $sticky (local.get $v0)))
              (else
                (if (i64.ne (local.get $v1) (i64.const 0))
                  (then
                    (local.set $k (i32.const 1)) (local.set $top (local.get $v1))
                    (local.set $below (local.get $v0)))
                  (else
                    (local.set $k (i32.const 0)) (local.set $top (local.get $v0))
                    (local.set $below (i64.const 0))))))))
        ;; The top 64 bits (leading one at bit 63, unless k = 0: then the limb is whole and exact
        ;; but for the conversion's own rounding), the bits of `below` left out made sticky.
        (local.set $lz (i64.clz (local.get $top)))
        (if (i32.and (i32.ne (local.get $k) (i32.const 0)) (i64.ne (local.get $lz) (i64.const 0)))
          (then
            (local.set $sticky
              (i64.or (local.get $sticky) (i64.shl (local.get $below) (local.get $lz))))
            (local.set $top
              (i64.or (i64.shl (local.get $top) (local.get $lz))
                (i64.shr_u (local.get $below) (i64.sub (i64.const 64) (local.get $lz))))))
          (else
            (local.set $sticky (i64.or (local.get $sticky) (local.get $below)))
            (local.set $lz (i64.const 0))))
        (local.set $m
          (f64.mul
            (f64.mul
              (f64.convert_i64_u
                (i64.or (local.get $top) (i64.extend_i32_u (i64.ne (local.get $sticky) (i64.const 0)))))
              (call $pow2
                (i32.sub (i32.shl (local.get $k) (i32.const 6)) (i32.wrap_i64 (local.get $lz)))))
            (local.get $unscale)))
        (f64.store (local.get $out) (select (f64.neg (local.get $m)) (local.get $m) (local.get $negative)))
        (local.set $coarse (i32.add (local.get $coarse) (i32.const 16)))
        (local.set $fine (i32.add (local.get $fine) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $next))))
)
