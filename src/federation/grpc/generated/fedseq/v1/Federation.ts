// Original file: proto/fedseq.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AggregatorMessage as _fedseq_v1_AggregatorMessage, AggregatorMessage__Output as _fedseq_v1_AggregatorMessage__Output } from '../../fedseq/v1/AggregatorMessage.js';
import type { CenterMessage as _fedseq_v1_CenterMessage, CenterMessage__Output as _fedseq_v1_CenterMessage__Output } from '../../fedseq/v1/CenterMessage.js';

export interface FederationClient extends grpc.Client {
  Join(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_fedseq_v1_CenterMessage, _fedseq_v1_AggregatorMessage__Output>;
  Join(options?: grpc.CallOptions): grpc.ClientDuplexStream<_fedseq_v1_CenterMessage, _fedseq_v1_AggregatorMessage__Output>;
  join(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_fedseq_v1_CenterMessage, _fedseq_v1_AggregatorMessage__Output>;
  join(options?: grpc.CallOptions): grpc.ClientDuplexStream<_fedseq_v1_CenterMessage, _fedseq_v1_AggregatorMessage__Output>;
  
}

export interface FederationHandlers extends grpc.UntypedServiceImplementation {
  Join: grpc.handleBidiStreamingCall<_fedseq_v1_CenterMessage__Output, _fedseq_v1_AggregatorMessage>;
  
}

export interface FederationDefinition extends grpc.ServiceDefinition {
  Join: MethodDefinition<_fedseq_v1_CenterMessage, _fedseq_v1_AggregatorMessage, _fedseq_v1_CenterMessage__Output, _fedseq_v1_AggregatorMessage__Output>
}
