//! The real `ceramic-anchor-service` binary: it starts from a config file on free ports,
//! prints both addresses, answers the HTTP API (healthcheck, a request anchored by the manual
//! trigger) and gRPC, exits 0 on SIGTERM, and finds the request again after a restart; a bad
//! config is refused. Every wait has a timeout, and a child left running is killed on drop.

mod support;

use anyhow::{Context, Result};
use ceramic_proto::v1::SupportedChainsRequest;
use ceramic_proto::v1::anchor_service_client::AnchorServiceClient;
use ceramic_testkit::{Program, Signal};
use serde_json::{Value, json};
use support::{BINARY, GRPC_READY, Running, TIMEOUT, http, write_config};

const STREAM: &str = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
const COMMIT: &str = "bafyreib3kxq7j5sxmqd4ek2mu6tt3yffwgfmw7wyqe6sxucjwvd7b5ojxe";

#[test]
fn the_binary_serves_anchors_and_exits_cleanly_on_sigterm() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "")?;
    let mut service = Running::start(&config)?;
    let (http_addr, grpc_addr) = service.addresses()?;

    assert_eq!(http(http_addr, "GET", "/api/v0/healthcheck", None)?, (200, String::new()));
    let request = json!({"streamId": STREAM, "cid": COMMIT, "timestamp": "2024-01-02T03:04:05Z"});
    let (status, body) = http(http_addr, "POST", "/api/v0/requests", Some(&request))?;
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(http_addr, "POST", "/api/v0/anchors", None)?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body)?["anchored"], 1);
    let path = format!("/api/v0/requests/{COMMIT}");
    let (status, body) = http(http_addr, "GET", &path, None)?;
    assert_eq!(status, 200);
    let anchored: Value = serde_json::from_str(&body)?;
    assert_eq!(anchored["status"], "COMPLETED");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut client = AnchorServiceClient::connect(format!("http://{grpc_addr}")).await?;
        let chains = client.supported_chains(SupportedChainsRequest {}).await?.into_inner();
        assert_eq!(chains.supported_chains, ["inmemory:12345"]);
        anyhow::Ok(())
    })?;
    drop(runtime);

    service.signal(Signal::Term)?;
    let status = service.wait()?;
    assert!(status.success(), "ceramic-anchor-service exited with {status}");
    assert!(dir.path().join("data/requests").is_dir(), "the store is under the data dir");

    // A restart finds the request as it was.
    let mut service = Running::start(&config)?;
    let (http_addr, _) = service.addresses()?;
    let (status, body) = http(http_addr, "GET", &path, None)?;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body)?, anchored);
    service.signal(Signal::Int)?;
    assert!(service.wait()?.success());
    Ok(())
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "")?;
    // Info level, so the service logs its start and stop; stderr is a pipe here.
    let mut service =
        Program::new(BINARY).arg("--config").arg(&config).env("RUST_LOG", "info").spawn()?;
    service.wait_for_prefix(GRPC_READY, TIMEOUT)?;
    service.signal(Signal::Term)?;
    let finished = service.finish(TIMEOUT)?;
    assert!(finished.success(), "{}", finished.stderr);
    assert!(finished.stderr.contains("INFO"), "no log lines: {}", finished.stderr);
    assert!(!finished.stderr.contains('\x1b'), "ANSI escapes in {:?}", finished.stderr);
    Ok(())
}

#[test]
fn the_binary_refuses_a_config_with_an_unknown_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "colour = \"blue\"\n")?;
    let mut service = Running::start(&config)?;
    let status = service.wait()?;
    assert!(!status.success(), "a bad config was accepted");
    Ok(())
}

#[test]
fn the_binary_anchors_on_ethereum_and_the_proof_checks_on_the_chain() -> Result<()> {
    use base64::Engine as _;
    use ceramic_anchor::{Chain as _, Witness};
    use ceramic_anchor_eth::test_utils::{Anvil, DEV_KEY_1};

    let anvil = Anvil::start();
    let (chain, contract) = anvil.chain_with_contract();
    let dir = tempfile::tempdir()?;
    let key = dir.path().join("eth.key");
    std::fs::write(&key, DEV_KEY_1)?;
    let contract = format!("0x{}", hex::encode(contract));
    let extra = format!(
        "chain = \"eth\"\n[eth]\nrpc_url = {:?}\nchain_id = 1337\ncontract = {contract:?}\nprivate_key_file = {key:?}\n",
        anvil.url()
    );
    let config = write_config(dir.path(), &extra)?;
    let mut service = Running::start(&config)?;
    let (http_addr, _) = service.addresses()?;

    let request = json!({"streamId": STREAM, "cid": COMMIT});
    assert_eq!(http(http_addr, "POST", "/api/v0/requests", Some(&request))?.0, 201);
    let (status, body) = http(http_addr, "POST", "/api/v0/anchors", None)?;
    assert_eq!(status, 200, "{body}");
    let (_, body) = http(http_addr, "GET", &format!("/api/v0/requests/{COMMIT}"), None)?;
    let anchored: Value = serde_json::from_str(&body)?;
    assert_eq!(anchored["status"], "COMPLETED", "{anchored}");
    let car = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(anchored["witnessCar"].as_str().context("a witness CAR")?)?;
    let witness = Witness::from_car(&car)?;
    assert_eq!(witness.proof().chain_id, "eip155:1337");
    // The chain itself confirms the proof: the root is in a transaction to the contract.
    assert!(chain.check_proof(witness.proof()).is_ok());
    service.signal(Signal::Term)?;
    assert!(service.wait()?.success());
    Ok(())
}
