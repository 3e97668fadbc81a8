//! The body of the `grpc_request` cargo-fuzz target (`fuzz/fuzz_targets/`), kept here so that a
//! unit test replays the committed corpus on stable.
//!
//! An input is a sequence of requests, each `[method byte][length: u16 big-endian][message]`,
//! sent to one fresh node service over an in-memory store with the Tile doctype. Each message
//! is decoded as its method's `ceramic.v1` request (prost, as tonic does): one that decodes
//! must encode to bytes that decode to the same message, and then goes through the handler
//! (the proto conversions, the service, the engine). The handler may refuse it, but only with
//! a status that blames the request or says what is missing — never `INTERNAL`, `UNKNOWN`,
//! `DATA_LOSS` or `UNAVAILABLE`, which an in-memory store has no reason to give. At the end,
//! every stream a request answered with loads with the last tip and log length it was answered
//! with.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_proto::v1;
use ceramic_proto::v1::node_server::Node;
use ceramic_service::Service;
use ceramic_storage::{MemoryStorage, Storage};
use prost::Message;
use tonic::{Code, Request, Response, Status};

use crate::Grpc;

/// The most requests one input sends.
const MAX_REQUESTS: usize = 16;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime builds")
    })
}

fn grpc() -> Grpc {
    let storage = Arc::new(MemoryStorage::new());
    let registry = ceramic_doctype::Registry::new()
        .with(ceramic_doctype_tile::Tile::new())
        .expect("one doctype registers");
    let engine = Engine::new(
        storage.clone(),
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    );
    Grpc::new(Service::builder(Arc::new(engine), storage as Arc<dyn Storage>).build())
}

/// Decodes `bytes` as `M`; a message that decodes re-encodes to one equal to it.
fn decode<M: Message + Default + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> Option<M> {
    let message = M::decode(bytes).ok()?;
    let again = M::decode(message.encode_to_vec().as_slice()).expect("an encoded message decodes");
    assert_eq!(again, message, "a message survives re-encoding");
    Some(message)
}

/// What a handler answered: a state to remember, or nothing.
fn check<T>(answer: Result<Response<T>, Status>) -> Option<T> {
    match answer {
        Ok(response) => Some(response.into_inner()),
        Err(status) => {
            let code = status.code();
            assert!(
                !matches!(
                    code,
                    Code::Internal | Code::Unknown | Code::DataLoss | Code::Unavailable
                ),
                "a request was answered {code:?}: {}",
                status.message()
            );
            None
        }
    }
}

/// Runs one input (see the module docs).
pub fn requests(data: &[u8]) {
    runtime().block_on(run(data));
}

async fn run(mut data: &[u8]) {
    let grpc = grpc();
    // stream id → (tip, log length) as last answered
    let mut answered: HashMap<String, (String, u64)> = HashMap::new();
    let mut remember = |state: Option<v1::StreamResponse>| {
        if let Some(state) = state.and_then(|s| s.state) {
            assert!(state.stream_id.parse::<ceramic_streamid::StreamId>().is_ok());
            assert!(state.log_length >= 1, "a state has a genesis");
            answered.insert(state.stream_id, (state.tip, state.log_length));
        }
    };
    for _ in 0..MAX_REQUESTS {
        let [method, hi, lo, rest @ ..] = data else { break };
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        let (message, after) = rest.split_at(len);
        data = after;
        match method % 12 {
            0 => {
                if let Some(m) = decode::<v1::CommitRequest>(message) {
                    remember(check(grpc.create_stream(Request::new(m)).await));
                }
            }
            1 => {
                if let Some(m) = decode::<v1::CommitRequest>(message) {
                    remember(check(grpc.apply_commit(Request::new(m)).await));
                }
            }
            2 => {
                if let Some(m) = decode::<v1::LoadStreamRequest>(message) {
                    let at_time = m.at_time;
                    let state = check(grpc.load_stream(Request::new(m)).await);
                    // A state at a time is an older one, not the stream's latest.
                    if at_time.is_none() {
                        remember(state);
                    }
                }
            }
            3 => {
                if let Some(m) = decode::<v1::ListCommitsRequest>(message)
                    && let Some(list) = check(grpc.list_commits(Request::new(m)).await)
                {
                    assert!(!list.commits.is_empty(), "a log has a genesis");
                }
            }
            4 => {
                if let Some(m) = decode::<v1::PinRequest>(message) {
                    check(grpc.pin(Request::new(m)).await);
                }
            }
            5 => {
                if let Some(m) = decode::<v1::UnpinRequest>(message) {
                    check(grpc.unpin(Request::new(m)).await);
                }
            }
            6 => {
                if let Some(m) = decode::<v1::ListPinsRequest>(message) {
                    check(grpc.list_pins(Request::new(m)).await);
                }
            }
            7 => {
                if let Some(m) = decode::<v1::ListStreamsRequest>(message)
                    && let Some(page) = check(grpc.list_streams(Request::new(m)).await)
                {
                    for id in &page.stream_ids {
                        assert!(id.parse::<ceramic_streamid::StreamId>().is_ok(), "{id}");
                    }
                }
            }
            8 => {
                if let Some(m) = decode::<v1::NodeInfoRequest>(message) {
                    check(grpc.node_info(Request::new(m)).await);
                }
            }
            9 => {
                if let Some(m) = decode::<v1::HealthRequest>(message) {
                    check(grpc.health(Request::new(m)).await);
                }
            }
            10 => {
                if let Some(m) = decode::<v1::AnchorStreamRequest>(message) {
                    check(grpc.request_anchor(Request::new(m)).await);
                }
            }
            _ => {
                // The subscription is opened (its id parsed) but not waited on.
                if let Some(m) = decode::<v1::SubscribeRequest>(message) {
                    check(grpc.subscribe(Request::new(m)).await);
                }
            }
        }
    }
    for (id, (tip, log_length)) in answered {
        let request = v1::LoadStreamRequest { id: id.clone(), at_time: None };
        let state = grpc.load_stream(Request::new(request)).await;
        let state = state.unwrap_or_else(|e| panic!("{id} was answered, now {e}"));
        let state = state.into_inner().state.expect("a stream response has a state");
        assert_eq!((state.tip, state.log_length), (tip, log_length), "{id} as last answered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("grpc_request", super::requests)],
        );
    }

    #[test]
    fn a_bad_id_is_refused_and_nothing_breaks() {
        let load = v1::LoadStreamRequest { id: "kxyz".into(), at_time: None }.encode_to_vec();
        let list = v1::ListStreamsRequest { after: "nope".into(), ..Default::default() };
        let list = list.encode_to_vec();
        let mut input = vec![2, 0, u8::try_from(load.len()).unwrap()];
        input.extend(&load);
        input.extend([7, 0, u8::try_from(list.len()).unwrap()]);
        input.extend(&list);
        input.extend([8, 0, 0, 9, 0, 0, 6, 0, 0]);
        requests(&input);
    }
}
