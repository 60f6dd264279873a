/**
 * The aggregator's gene-level pieces against R (values computed with R 4.x, stats and
 * locfit 1.5-9.7, as DESeq2 1.38 calls them), and the center-side μ steps.
 */
import { describe, expect, it } from "vitest";
import {
  type DispersionCenter,
  type DispersionMeans,
  geneMu,
} from "../../../src/algorithms/dispersions/center.js";
import {
  localDispersionFit,
  locfit,
  locfitPredict,
} from "../../../src/algorithms/dispersions/locfit.js";
import {
  dispersionMomentsAggregate,
  dispersionMomentsLocalStep,
  dispersionResidualsLocalStep,
} from "../../../src/algorithms/dispersions/moments.js";
import { dispersionMuLocalStep, muFromBeta } from "../../../src/algorithms/dispersions/mu.js";
import {
  dispersionPriorVariance,
  finalDispersions,
  mad,
  median,
  trigamma,
} from "../../../src/algorithms/dispersions/prior.js";
import { coarseGrid } from "../../../src/algorithms/dispersions/search.js";
import {
  dispersionTrend,
  gammaIdentityGlm,
  parametricDispersionFit,
  trimmedMean,
} from "../../../src/algorithms/dispersions/trend.js";

const close = (actual: number, expected: number, rel: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));

describe("trend pieces", () => {
  it("Gamma(identity) glm with start matches R's glm.fit", () => {
    const x = Float64Array.of(0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144);
    const noise = [0.01, -0.02, 0.03, 0, -0.01, 0.02, 0.01, -0.005, 0.002, 0.004, -0.003, 0.001];
    const y = x.map((v, i) => 0.05 + 2 / v + noise[i]);
    const fit = gammaIdentityGlm(
      x.map((v) => 1 / v),
      y,
      [0.1, 1],
    );
    close(fit.coefficients[0], 0.050228409704955054, 1e-10);
    close(fit.coefficients[1], 2.024369052931231, 1e-10);
    close(fit.deviance, 0.012399192157420781, 1e-9);
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBe(4);
  });

  it("the parametric fit fails where DESeq2's does (a non-positive coefficient)", () => {
    const means = Float64Array.of(1, 10, 100, 1000, 10000);
    // Dispersion rising with the mean: the slope on 1/mean comes out negative.
    const disps = Float64Array.of(0.01, 0.05, 0.2, 0.5, 1);
    expect(() => parametricDispersionFit(means, disps)).toThrow(/failed/);
  });

  it("locfit with DESeq2's call matches R (vertices, interpolation, extrapolation)", () => {
    const m = Float64Array.from(LOCFIT_MEANS);
    const d = Float64Array.from(LOCFIT_DISPS);
    const trend = localDispersionFit(m, d, 1e-8);
    const expected = [
      1.3806142626064752, 0.83987851408084757, 0.23044658424939626, 0.11404243930421935,
      0.099928379157041558, 0.13830678561461615,
    ];
    for (const [i, q] of [0.5, 1, 10, 100, 1000, 5000].entries())
      close(trend(q), expected[i], 1e-8);
    const fit = locfit(m.map(Math.log), d.map(Math.log), m);
    expect(fit.vertices[0]).toBe(Math.min(...m.map(Math.log)));
    expect(locfitPredict(fit, fit.vertices[3])).toBeCloseTo(
      fit.value[3] +
        (fit.parametric[0] +
          fit.parametric[1] * (fit.vertices[3] - fit.centre) +
          (fit.parametric[2] * (fit.vertices[3] - fit.centre) ** 2) / 2),
      12,
    );
  });

  it("dispersionTrend: parametric when it works, and the trend at every non-zero gene", () => {
    const baseMean = Float64Array.of(1, 2, 5, 10, 50, 100, 500, 1000, Number.NaN);
    const disp = baseMean.map((m, i) => (0.05 + 1 / m) * (1 + 0.1 * Math.sin(i)));
    const mask = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 0);
    const trend = dispersionTrend(mask, baseMean, disp);
    expect(trend.type).toBe("parametric");
    expect(trend.dispFit[8]).toBeNaN();
    const c = trend.coefficients!;
    close(trend.dispFit[3], c.asymptDisp + c.extraPois / 10, 1e-15);
  });

  it("R's trimmed mean, median, mad and trigamma", () => {
    expect(trimmedMean(Float64Array.of(3, 1, 2), 0.001)).toBe(2);
    const big = Float64Array.from({ length: 2000 }, (_, i) => i);
    big[0] = -1e9; // floor(2000·0.001) = 2 values trimmed at each end
    expect(trimmedMean(big, 0.001)).toBeCloseTo(999.5, 10);
    const v = Float64Array.of(1, 5, 2, 8, 3, 9);
    expect(median(v)).toBe(4);
    close(mad(v), 3.7064999999999997, 1e-15);
    const expected = [
      4.934802200544679, 0.49035775610023491, 0.18132295573711527, 0.010050166663333566,
    ];
    for (const [i, x] of [0.5, 2.5, 6, 100].entries()) close(trigamma(x), expected[i], 1e-13);
  });
});

describe("prior and final choice", () => {
  const mask = Uint8Array.of(1, 1, 1, 1, 0);
  const fit = Float64Array.of(0.1, 0.1, 0.1, 0.1, Number.NaN);

  it("prior variance: DESeq2's formula, flagged when m − p ≤ 3", () => {
    const ge = Float64Array.of(0.05, 0.1, 0.2, 0.4, Number.NaN);
    const prior = dispersionPriorVariance(mask, ge, fit, 20, 2);
    close(
      prior.varLogDispEsts,
      mad(Float64Array.of(Math.log(0.5), 0, Math.log(2), Math.log(4))) ** 2,
      1e-14,
    );
    expect(prior.priorVariance).toBe(Math.max(prior.varLogDispEsts - trigamma(9), 0.25));
    expect(prior.method).toBe("trigamma");
    expect(dispersionPriorVariance(mask, ge, fit, 5, 2).method).toBe("small-df");
  });

  it("outliers keep their gene-wise estimate; nothing usable gives 10·minDisp", () => {
    const ge = Float64Array.of(0.05, 0.1, 0.2, 5, Number.NaN);
    const map = Float64Array.of(0.06, 0.1, 0.15, 0.3, Number.NaN);
    const final = finalDispersions(mask, ge, fit, map, 0.5);
    expect(Array.from(final.outlier)).toEqual([0, 0, 0, 1, 0]);
    expect(Array.from(final.dispersion.subarray(0, 4))).toEqual([0.06, 0.1, 0.15, 5]);
    const none = finalDispersions(
      mask,
      Float64Array.of(1e-8, 1e-8, 5e-7, 1e-8, Number.NaN),
      fit,
      map,
      0.5,
    );
    expect(Array.from(none.dispersion.subarray(0, 4))).toEqual([1e-7, 1e-7, 1e-7, 1e-7]);
  });

  it("DESeq2's coarse grid", () => {
    const grid = coarseGrid(16);
    expect(grid[0]).toBe(Math.log(1e-8));
    expect(grid[19]).toBe(Math.log(16));
    close(grid[1] - grid[0], 1.1154352350627448, 1e-14);
  });
});

describe("μ at the center", () => {
  const center: DispersionCenter = {
    n: 4,
    p: 2,
    genes: 3,
    design: Float64Array.of(1, 0, 1, 0, 1, 1, 1, 1),
    sizeFactors: Float64Array.of(0.5, 1, 1.5, 2),
    counts: Float64Array.of(0, 0, 0, 0, 1, 3, 10, 20, 100, 80, 300, 500),
  };

  it("the residuals step sets DESeq2's linear-model μ, the same as step dispersionMu", () => {
    // The aggregator lists the two rows of a two-level factor (and one no sample has).
    const moments = {
      kind: "dispersion-moments-request" as const,
      candidateRows: Float64Array.of(1, 0, 1, 1, 0, 1),
    };
    const share = dispersionMomentsLocalStep(center, moments);
    expect(Array.from(share.rowCounts)).toEqual([2, 2, 0]);
    const request = dispersionMomentsAggregate([share], moments);
    expect(Array.from(request.mask)).toEqual([0, 1, 1]);
    expect(request.linearMu).toBe(true);
    expect(Array.from(request.designRows ?? [])).toEqual([1, 0, 1, 1]);
    const linear = { ...center };
    dispersionResidualsLocalStep(linear, request);
    // Group means of y/s times s, floored at 0.5; gene 0 is all zero (NaN).
    const groupMean = (1 / 0.5 + 3 / 1) / 2;
    const muOf = (c: DispersionCenter, g: number) => {
      const mu = new Float64Array(c.n);
      geneMu(c, c.means as DispersionMeans, g, mu);
      return Array.from(mu);
    };
    expect(muOf(linear, 1)[0]).toBeCloseTo(Math.max(groupMean * 0.5, 0.5), 12);
    expect(muOf(linear, 0)[0]).toBeNaN();
    const viaStep = { ...center };
    dispersionMuLocalStep(viaStep, {
      kind: "dispersion-mu-request",
      mask: request.mask,
      beta: request.linearBeta,
      link: "identity",
      minMu: 0.5,
    });
    for (const g of [0, 1, 2]) expect(muOf(viaStep, g)).toEqual(muOf(linear, g));
  });

  it("muFromBeta is max(s·exp(xβ), 0.5)", () => {
    const beta = Float64Array.of(-5, 0, 1, 0.5, 4, -1);
    const mu = muFromBeta(center, beta);
    expect(mu[0]).toBe(0.5);
    expect(mu[2 * 4 + 3]).toBeCloseTo(2 * Math.exp(3), 12);
    expect(mu[4 + 1]).toBeCloseTo(Math.exp(1), 12);
  });
});

const LOCFIT_MEANS = [
  8.3651085005925374, 19.628668911392694, 97.790448318401317, 1430.332651972464, 5.0201280849059735,
  1322.2861902073357, 1914.8645132348336, 197.6271826547129, 153.37905654017891, 1.6393341671224533,
  5.1955193942342053, 4.106019304959597, 243.75966814165886, 21.60294711106129, 472.82784585426214,
  53.602405011181872, 311.35946045024673, 2794.0536979185258, 20.911127540134711,
  502.48298092734035, 1768.0664880387917, 5.458315197549112, 183.71582395029372, 2.7303799291222908,
  8.4804655649190934, 21.953196170864452, 1.1130707812348124, 21.308448911134402,
  1051.0308944801034, 15.222764523693774, 47.30617912076481, 121.08909578007949, 51.848730816479375,
  4.4359456229591308, 749.18544939314609, 210.13157991737563, 574.7406443927041, 2.3715624679524883,
  326.91087110676949, 26.848110261295453, 711.63871005423562, 177.05874152865519,
  525.03351482467076, 83.453575326844344, 69.252319672459066, 552.71906553647841,
  1.2052049297557454, 45.505833216155168, 350.20192243162586, 255.15021543622927, 45.64787139210555,
  982.08298869695125, 33.274018186101998, 7.0878228231166247, 1.7602086922446598,
  2.2160565364117386, 12.555686335981598, 63.375294291021703, 199.54516692696859,
  25.910323953036638,
];
const LOCFIT_DISPS = [
  0.33002134479758105, 0.14636230774031531, 0.12382060839331109, 0.099086749900325621,
  0.19794476845074396, 0.0889617073624243, 0.08930807528718808, 0.10320712665970487,
  0.14816676762282854, 0.89267536818430471, 0.27838835954850161, 0.31840025952594087,
  0.12831190479166094, 0.1728786285370025, 0.083052445434129776, 0.095964562864318842,
  0.11514094879876444, 0.12638119578729465, 0.1429222992237765, 0.13284834784445598,
  0.11332297316040305, 0.23570220306612696, 0.11680527416398868, 0.33225799043693877,
  0.33496505249781772, 0.26365716127434263, 0.89426579532145711, 0.10741653591547604,
  0.1197678834377022, 0.1591120660975088, 0.24899256742902176, 0.10699143604007194,
  0.14670930569081658, 0.32817642416819948, 0.081080927097205796, 0.11086346824425879,
  0.059200626080401213, 0.80971969065454885, 0.10790778686394313, 0.26337071050578714,
  0.11695360337438307, 0.085381324951755849, 0.12239522809734742, 0.084615307992650157,
  0.0785676633465206, 0.11111155662168036, 0.8139601439298757, 0.12201565905521207,
  0.10517519081347514, 0.087073968176811387, 0.10278674614217818, 0.097003547358309808,
  0.1851880583138926, 0.15264088777729043, 0.79842684934362285, 0.60915771745496905,
  0.24712979379057604, 0.10568132439625202, 0.11733986202845975, 0.15015726153898665,
];
