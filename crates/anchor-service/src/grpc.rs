//! The anchor service over gRPC: `ceramic.v1.AnchorService` (`crates/proto/proto/ceramic/v1/anchor.proto`),
//! generated in `ceramic-proto` and implemented here over a [`Cas`].
//!
//! Errors become statuses by what the caller should do: an id that does not parse is
//! `InvalidArgument`, an unknown request `NotFound`, a storage or chain failure `Unavailable`
//! (retry); a corrupt store is `DataLoss`, anything else `Internal`.

use ceramic_proto::v1::anchor_service_server::{AnchorService, AnchorServiceServer};
use ceramic_proto::v1::{
    AnchorRequestResponse, AnchorStatus, GetAnchorRequestRequest, RequestAnchorRequest,
    SupportedChainsRequest, SupportedChainsResponse, TriggerBatchRequest, TriggerBatchResponse,
};
use tonic::{Request, Response, Status as GrpcStatus};

use crate::{Cas, Error, NewRequest, RequestRecord, Status, parse_cid, parse_stream_id};

/// The gRPC service over a [`Cas`].
#[derive(Debug, Clone)]
pub struct AnchorGrpc {
    cas: Cas,
}

impl AnchorGrpc {
    /// The service over `cas`.
    pub fn new(cas: Cas) -> Self {
        AnchorGrpc { cas }
    }

    /// The tonic server for it.
    pub fn into_server(self) -> AnchorServiceServer<Self> {
        AnchorServiceServer::new(self)
    }
}

/// Serves the gRPC API on `listener` until `shutdown` completes.
///
/// # Errors
/// The transport's error.
pub async fn serve(
    listener: tokio::net::TcpListener,
    cas: Cas,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(AnchorGrpc::new(cas).into_server())
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            shutdown,
        )
        .await
}

/// The status for a service error.
pub fn to_status(error: &Error) -> GrpcStatus {
    match error {
        Error::Body(body) => GrpcStatus::invalid_argument(body.to_string()),
        Error::Store(_) | Error::Chain(_) => GrpcStatus::unavailable(error.to_string()),
        Error::Corrupt { .. } | Error::MissingRequest { .. } | Error::RootMismatch { .. } => {
            GrpcStatus::data_loss(error.to_string())
        }
        _ => GrpcStatus::internal(error.to_string()),
    }
}

fn status(status: Status) -> AnchorStatus {
    match status {
        Status::Pending => AnchorStatus::Pending,
        Status::Processing => AnchorStatus::Processing,
        Status::Completed => AnchorStatus::Completed,
        Status::Failed => AnchorStatus::Failed,
        Status::Ready => AnchorStatus::Ready,
        Status::Replaced => AnchorStatus::Replaced,
    }
}

fn response(record: RequestRecord, created: bool) -> AnchorRequestResponse {
    AnchorRequestResponse {
        id: record.cid.to_string(),
        status: status(record.status).into(),
        stream_id: record.stream_id.to_string(),
        cid: record.cid.to_string(),
        message: record.message,
        created_at: record.created_at,
        updated_at: record.updated_at,
        anchor_commit: record.anchor_commit.map(|c| c.to_string()).unwrap_or_default(),
        witness_car: record.witness_car.unwrap_or_default(),
        created,
    }
}

#[tonic::async_trait]
impl AnchorService for AnchorGrpc {
    async fn request_anchor(
        &self,
        request: Request<RequestAnchorRequest>,
    ) -> Result<Response<AnchorRequestResponse>, GrpcStatus> {
        let request = request.into_inner();
        let new = NewRequest {
            stream_id: parse_stream_id(&request.stream_id).map_err(|e| to_status(&e.into()))?,
            cid: parse_cid(&request.cid).map_err(|e| to_status(&e.into()))?,
            timestamp: request.timestamp_ms,
        };
        let submitted =
            self.cas.blocking(move |cas| cas.request(&new)).await.map_err(|e| to_status(&e))?;
        Ok(Response::new(response(submitted.record, submitted.created)))
    }

    async fn get_request(
        &self,
        request: Request<GetAnchorRequestRequest>,
    ) -> Result<Response<AnchorRequestResponse>, GrpcStatus> {
        let cid = parse_cid(&request.into_inner().cid).map_err(|e| to_status(&e.into()))?;
        match self.cas.blocking(move |cas| cas.get(&cid)).await.map_err(|e| to_status(&e))? {
            Some(record) => Ok(Response::new(response(record, false))),
            None => Err(GrpcStatus::not_found(format!("no request for {cid}"))),
        }
    }

    async fn supported_chains(
        &self,
        _request: Request<SupportedChainsRequest>,
    ) -> Result<Response<SupportedChainsResponse>, GrpcStatus> {
        Ok(Response::new(SupportedChainsResponse { supported_chains: self.cas.supported_chains() }))
    }

    async fn trigger_batch(
        &self,
        _request: Request<TriggerBatchRequest>,
    ) -> Result<Response<TriggerBatchResponse>, GrpcStatus> {
        let outcome = self.cas.blocking(Cas::trigger).await.map_err(|e| to_status(&e))?;
        Ok(Response::new(match outcome {
            Some(outcome) => TriggerBatchResponse {
                anchored: outcome.requests.len() as u64,
                batch: outcome.id,
                root: outcome.root.to_string(),
                chain_id: outcome.chain_id,
                tx_hash: outcome.tx_hash.to_string(),
            },
            None => TriggerBatchResponse::default(),
        }))
    }
}
