//! The gRPC AnchorService over a real socket: every method, and the status codes of bad input
//! and unknown requests.

use ceramic_anchor::Witness;
use ceramic_anchor_service::{Policy, grpc};
use ceramic_proto::v1::anchor_service_client::AnchorServiceClient;
use ceramic_proto::v1::{
    AnchorStatus, GetAnchorRequestRequest, RequestAnchorRequest, SupportedChainsRequest,
    TriggerBatchRequest,
};
use tonic::Code;

use crate::{commit, fixture, stream};

#[tokio::test]
async fn every_method_answers_over_grpc() {
    let f = fixture(Policy::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(grpc::serve(listener, f.cas.clone(), async move {
        stopped.await.ok();
    }));
    let mut client = AnchorServiceClient::connect(format!("http://{addr}")).await.unwrap();

    let request = RequestAnchorRequest {
        stream_id: stream(1).to_string(),
        cid: commit(1, 0).to_string(),
        timestamp_ms: Some(42),
    };
    let created = client.request_anchor(request.clone()).await.unwrap().into_inner();
    assert!(created.created);
    assert_eq!(created.status(), AnchorStatus::Pending);
    assert_eq!(created.stream_id, stream(1).to_string());
    let again = client.request_anchor(request).await.unwrap().into_inner();
    assert!(!again.created);
    assert_eq!(again.cid, created.cid);

    let chains = client.supported_chains(SupportedChainsRequest {}).await.unwrap().into_inner();
    assert_eq!(chains.supported_chains, ["inmemory:12345"]);

    let batch = client.trigger_batch(TriggerBatchRequest {}).await.unwrap().into_inner();
    assert_eq!(batch.anchored, 1);
    assert_eq!(batch.chain_id, "inmemory:12345");
    let done = client
        .get_request(GetAnchorRequestRequest { cid: commit(1, 0).to_string() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status(), AnchorStatus::Completed);
    let witness = Witness::from_car(&done.witness_car).unwrap();
    assert_eq!(done.anchor_commit, witness.cid().to_string());
    assert_eq!(witness.proof().tx_hash.to_string(), batch.tx_hash);
    f.chain.check(witness.proof()).unwrap();
    let empty = client.trigger_batch(TriggerBatchRequest {}).await.unwrap().into_inner();
    assert_eq!(empty.anchored, 0);

    let bad = RequestAnchorRequest {
        stream_id: "not a stream".into(),
        cid: commit(2, 0).to_string(),
        timestamp_ms: None,
    };
    assert_eq!(client.request_anchor(bad).await.unwrap_err().code(), Code::InvalidArgument);
    let bad_cid = GetAnchorRequestRequest { cid: "nope".into() };
    assert_eq!(client.get_request(bad_cid).await.unwrap_err().code(), Code::InvalidArgument);
    let unknown = GetAnchorRequestRequest { cid: commit(9, 9).to_string() };
    assert_eq!(client.get_request(unknown).await.unwrap_err().code(), Code::NotFound);
    assert!(f.cas.get(&commit(2, 0)).unwrap().is_none());

    drop(client);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
