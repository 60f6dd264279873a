#!/usr/bin/env bash
# Regenerate the TypeScript types of proto/fedseq.proto (committed in src/federation/grpc/generated).
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/federation/grpc/generated
rm -rf "$out"
npx proto-loader-gen-types --longs=Number --enums=String --defaults --oneofs --bytes=Buffer \
  --grpcLib=@grpc/grpc-js --outDir="$out" proto/fedseq.proto
# ES modules need explicit extensions on relative imports.
find "$out" -name '*.ts' -exec sed -i -E "s#(from '\.{1,2}/[^']+)';#\1.js';#" {} +
