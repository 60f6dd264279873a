/*
 * Second yardstick: the local PQN step as plain loops (step-major, one sum over the samples at a
 * time, the full p x p Fisher matrix, two logarithms per sample), i.e. the straightforward C
 * version of the computation, on the same inputs as bench/pqn_step.c (same input and output
 * format; CPU seconds). Built by `npm run bench` with `gcc -O2` (no fast-math).
 */
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
  for (int rep = 0; rep < reps; rep++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (int s = 0; s < steps; s++) {
      for (int g = 0; g < genes; g++) {
        size_t base = (size_t)g * n;
        double alpha = disp[g], r = rinv[g];
        for (int k = 0; k < p; k++) {
          double v = beta[g * p + k] - t[s] * dir[g * p + k];
          point[k] = fmin(fmax(v, bounds[0]), bounds[1]);
        }
        for (int i = 0; i < n; i++) {
          double xb = 0;
          for (int k = 0; k < p; k++) xb += design[i * p + k] * point[k];
          double m = fmax(sf[i] * exp(xb), minmu[0]);
          double y = counts[base + i];
          score[i] = ((r + y) * m) / (r + m);
          w[i] = m / (1.0 + m * alpha);
          terms[i] = -logb[base + i] + (y + r) * log(r + m) - y * log(m);
        }
        size_t sa = (size_t)s * genes + g;
        nll[sa] = offset[g] + pairwise_sum(terms, n);
        for (int k = 0; k < p; k++) {
          double acc = 0;
          for (int i = 0; i < n; i++) acc += design[i * p + k] * score[i];
          grad[sa * p + k] = -xty[g * p + k] + acc;
        }
        for (int k = 0; k < p; k++)
          for (int l = 0; l < p; l++) {
            double acc = 0;
            for (int i = 0; i < n; i++) acc += design[i * p + k] * w[i] * design[i * p + l];
            fisher[sa * pp + k * p + l] = acc;
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
