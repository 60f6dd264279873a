/*
 * Yardstick: fedseq's local PQN step (NLL, gradient and Fisher information at 20 points
 * clip(beta - t*d) per gene) in plain C, on the same inputs and with the same algorithm and
 * operation order as nbFisherGradientNllAtSteps in src/math/negativeBinomial.ts: gene-major loop,
 * ln(mu) = ln(s) + eta where mu is not floored, the sums over samples of a row of the Fisher matrix
 * (and the gradient entry) up to five at a time, each in sample order. Built by `npm run bench`
 * with `gcc -O2` (no fast-math) and the system's libm. Not part of the product: it measures how
 * close the TypeScript kernel runs to compiled code.
 *
 * Input (binary, little-endian): int32 n, p, genes, steps, reps; then float64 arrays design (n*p),
 * size_factors (n), counts (genes*n), dispersions (genes), inverse_dispersion (genes),
 * nll_offset (genes), log_binomial (genes*n), xty (genes*p), beta (genes*p), direction (genes*p),
 * step_sizes (steps), bounds (2), min_mu (1).
 * Output: float64 fisher (steps*genes*p*p), gradient (steps*genes*p), nll (steps*genes), then
 * float64 CPU seconds per repetition (median of reps).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double *read_doubles(FILE *f, size_t count) {
  double *a = malloc(count * sizeof(double));
  if (fread(a, sizeof(double), count, f) != count) { fprintf(stderr, "short input\n"); exit(2); }
  return a;
}

static double pairwise_sum(const double *a, int n) {
  if (n < 8) { double r = 0; for (int i = 0; i < n; i++) r += a[i]; return r; }
  if (n <= 128) {
    double r[8]; for (int j = 0; j < 8; j++) r[j] = a[j];
    int end = n - n % 8, i = 8;
    for (; i < end; i += 8) for (int j = 0; j < 8; j++) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
  }
  int n2 = n / 2; n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* eta_i = sum_k x_ik b_k from 0 in k order; coefficients in registers for p <= 4. */
static void linear(int n, int p, const double *x, const double *b, double *eta) {
  if (p == 1) {
    for (int i = 0; i < n; i++) eta[i] = 0 + x[i] * b[0];
  } else if (p == 2) {
    double b0 = b[0], b1 = b[1];
    for (int i = 0; i < n; i++) eta[i] = 0 + x[2 * i] * b0 + x[2 * i + 1] * b1;
  } else if (p == 3) {
    double b0 = b[0], b1 = b[1], b2 = b[2];
    for (int i = 0; i < n; i++) eta[i] = 0 + x[3 * i] * b0 + x[3 * i + 1] * b1 + x[3 * i + 2] * b2;
  } else if (p == 4) {
    double b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
    for (int i = 0; i < n; i++) {
      const double *row = x + 4 * i;
      eta[i] = 0 + row[0] * b0 + row[1] * b1 + row[2] * b2 + row[3] * b3;
    }
  } else {
    for (int i = 0; i < n; i++) {
      double xb = 0;
      for (int k = 0; k < p; k++) xb += x[i * p + k] * b[k];
      eta[i] = xb;
    }
  }
}

static int compare(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: pqn_step IN OUT\n"); return 2; }
  FILE *in = fopen(argv[1], "rb");
  if (!in) { perror(argv[1]); return 2; }
  int hdr[5];
  if (fread(hdr, sizeof(int), 5, in) != 5) { fprintf(stderr, "short header\n"); return 2; }
  int n = hdr[0], p = hdr[1], genes = hdr[2], steps = hdr[3], reps = hdr[4];
  double *design = read_doubles(in, (size_t)n * p), *sf = read_doubles(in, n);
  double *counts = read_doubles(in, (size_t)genes * n), *disp = read_doubles(in, genes);
  double *rinv = read_doubles(in, genes), *offset = read_doubles(in, genes);
  double *logb = read_doubles(in, (size_t)genes * n), *xty = read_doubles(in, (size_t)genes * p);
  double *beta = read_doubles(in, (size_t)genes * p), *dir = read_doubles(in, (size_t)genes * p);
  double *t = read_doubles(in, steps), *bounds = read_doubles(in, 2), *minmu = read_doubles(in, 1);
  fclose(in);
  size_t pp = (size_t)p * p;
  double *fisher = malloc((size_t)steps * genes * pp * sizeof(double));
  double *grad = malloc((size_t)steps * genes * p * sizeof(double));
  double *nll = malloc((size_t)steps * genes * sizeof(double));
  double *point = malloc(p * sizeof(double)), *terms = malloc(n * sizeof(double));
  double *w = malloc(n * sizeof(double)), *score = malloc(n * sizeof(double));
  double *times = malloc(reps * sizeof(double));
  double *mu = malloc(n * sizeof(double)), *logmu = malloc(n * sizeof(double));
  double *logsf = malloc(n * sizeof(double)), *cols = malloc((size_t)n * p * sizeof(double));
  for (int rep = 0; rep < reps; rep++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    /* Per call, as the TypeScript kernel: ln s and the design column-major. */
    for (int i = 0; i < n; i++) logsf[i] = log(sf[i]);
    for (int i = 0; i < n; i++)
      for (int k = 0; k < p; k++) cols[(size_t)k * n + i] = design[(size_t)i * p + k];
    for (int g = 0; g < genes; g++) {
      size_t base = (size_t)g * n;
      double alpha = disp[g], r = rinv[g];
      for (int s = 0; s < steps; s++) {
        for (int k = 0; k < p; k++) {
          double v = beta[g * p + k] - t[s] * dir[g * p + k];
          point[k] = fmin(fmax(v, bounds[0]), bounds[1]);
        }
        linear(n, p, design, point, logmu);
        for (int i = 0; i < n; i++) {
          double xb = logmu[i];
          double raw = sf[i] * exp(xb);
          double m = fmax(raw, minmu[0]);
          mu[i] = m;
          logmu[i] = raw >= minmu[0] && raw >= DBL_MIN && raw <= DBL_MAX ? logsf[i] + xb : log(m);
        }
        for (int i = 0; i < n; i++) {
          double m = mu[i], y = counts[base + i];
          score[i] = ((r + y) * m) / (r + m);
          w[i] = m / (1.0 + m * alpha);
          terms[i] = -logb[base + i] + (y + r) * log(r + m) - y * logmu[i];
        }
        size_t sa = (size_t)s * genes + g;
        nll[sa] = offset[g] + pairwise_sum(terms, n);
        double *f = fisher + sa * pp;
        for (int k = 0; k < p; k++) {
          const double *xk = cols + (size_t)k * n;
          for (int l = k; l < p; l += 4) {
            int cnt = p - l < 4 ? p - l : 4;
            const double *c0 = cols + (size_t)l * n, *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
            double g0 = 0, a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            if (l == k) {
              /* gradient entry k with Fisher entries (k, k .. k+cnt-1) */
              if (cnt == 4) {
                for (int i = 0; i < n; i++) {
                  double x = xk[i], xw = x * w[i];
                  g0 += x * score[i];
                  a0 += xw * c0[i]; a1 += xw * c1[i]; a2 += xw * c2[i]; a3 += xw * c3[i];
                }
              } else if (cnt == 3) {
                for (int i = 0; i < n; i++) {
                  double x = xk[i], xw = x * w[i];
                  g0 += x * score[i];
                  a0 += xw * c0[i]; a1 += xw * c1[i]; a2 += xw * c2[i];
                }
              } else if (cnt == 2) {
                for (int i = 0; i < n; i++) {
                  double x = xk[i], xw = x * w[i];
                  g0 += x * score[i];
                  a0 += xw * c0[i]; a1 += xw * c1[i];
                }
              } else {
                for (int i = 0; i < n; i++) {
                  double x = xk[i];
                  g0 += x * score[i];
                  a0 += x * w[i] * c0[i];
                }
              }
              grad[sa * p + k] = -xty[g * p + k] + g0;
            } else if (cnt == 4) {
              for (int i = 0; i < n; i++) {
                double xw = xk[i] * w[i];
                a0 += xw * c0[i]; a1 += xw * c1[i]; a2 += xw * c2[i]; a3 += xw * c3[i];
              }
            } else if (cnt == 3) {
              for (int i = 0; i < n; i++) {
                double xw = xk[i] * w[i];
                a0 += xw * c0[i]; a1 += xw * c1[i]; a2 += xw * c2[i];
              }
            } else if (cnt == 2) {
              for (int i = 0; i < n; i++) {
                double xw = xk[i] * w[i];
                a0 += xw * c0[i]; a1 += xw * c1[i];
              }
            } else {
              for (int i = 0; i < n; i++) a0 += xk[i] * w[i] * c0[i];
            }
            double o[4] = {a0, a1, a2, a3};
            for (int j = 0; j < cnt; j++) {
              f[k * p + l + j] = o[j];
              f[(l + j) * p + k] = o[j];
            }
          }
        }
      }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    times[rep] = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  }
  qsort(times, reps, sizeof(double), compare);
  FILE *out = fopen(argv[2], "wb");
  fwrite(fisher, sizeof(double), (size_t)steps * genes * pp, out);
  fwrite(grad, sizeof(double), (size_t)steps * genes * p, out);
  fwrite(nll, sizeof(double), (size_t)steps * genes, out);
  fwrite(&times[reps / 2], sizeof(double), 1, out);
  fclose(out);
  return 0;
}
