// Bytes upstream's message layout moves for a whole lfc run, from the shapes documented in
// ../shared/fixtures/README.md and the mask sizes of each round (end_to_end/<dataset>/lfc.json):
// float64 arrays at 8 bytes a value, numpy bool masks at 1 byte a gene (pickle overhead ignored,
// which only flatters upstream). Every shared state goes to every center; every share echoes the
// state it received, as upstream's local steps return it.

/** Upstream's bytes for a run: G genes, p coefficients, C centers, per-round mask sizes. */
export function upstreamBytes({ G, p, C, irls, pqn, S = 20 }) {
  const f = 8;
  let toAggregator = 0;
  let fromAggregator = 0;
  const lines = [];
  // init: shares X_cᵀ log features (G×p) and the Gram matrix; the aggregate is the IRLS state.
  const irlsState = G * p * f + 2 * G + G * f;
  toAggregator += C * (G * p * f + p * p * f);
  fromAggregator += C * irlsState;
  lines.push(`init: ${C} × (G·p·8 + p²·8) up, ${C} × (G·p·8 + 2G + 8G) down`);
  // IRLS round k: state down; state echoed + A(1 + p + p²)·8 (+ A gene names, ~15 bytes) up.
  irls.forEach((A) => {
    fromAggregator += C * irlsState;
    toAggregator += C * (irlsState + A * (1 + p + p * p) * f + A * 15);
  });
  lines.push(
    `IRLS: ${irls.length} rounds × ${C} × [(G·p·8 + 10G) down, (G·p·8 + 10G + A(1+p+p²)·8 + 15A) up]`,
  );
  // PQN round t: state (G·p·8 + 3G + 8G + A·(p+1)·8) down; echo + S·A·(1 + p + p²)·8 up.
  pqn.forEach((A, t) => {
    const state = t === 0 ? irlsState : G * p * f + 3 * G + G * f + A * (p + 1) * f;
    const steps = t === 0 ? 1 : S;
    fromAggregator += C * state;
    toAggregator += C * (state + steps * A * (1 + p + p * p) * f);
  });
  lines.push(
    `PQN: ${pqn.length} rounds × ${C} × [(G·p·8 + 11G + A(p+1)·8) down, (same + S·A(1+p+p²)·8) up], S = 20 (1 at round 0)`,
  );
  return { toAggregator, fromAggregator, total: toAggregator + fromAggregator, lines };
}

/** Mask sizes of each round's input, from an end_to_end lfc.json. */
export function roundInputs(lfc, G) {
  const irls = lfc.round_summaries.irls.map((_, k) =>
    k === 0 ? G : lfc.round_summaries.irls[k - 1].n_irls_mask,
  );
  const pqn = lfc.round_summaries.pqn.map((r, t) =>
    t === 0 ? r.n_PQN_mask : lfc.round_summaries.pqn[t - 1].n_PQN_mask,
  );
  return { irls, pqn };
}
