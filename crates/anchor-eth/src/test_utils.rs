//! A real Ethereum dev chain for tests: [`Anvil`] runs Foundry's `anvil` (installed from npm
//! into `tools/anvil/` by `cargo xtask tools`) on 127.0.0.1 with a port it picks and prints,
//! through the `ceramic-testkit` harness, and kills it on drop.

use std::path::PathBuf;
use std::time::Duration;

use ceramic_testkit::{Process, Program};
use k256::ecdsa::SigningKey;

use crate::tx::Address;
use crate::{Config, EthChain};

/// anvil's (and hardhat's) well-known account 0 key; its address is
/// `0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266` and it starts with 10,000 ether.
pub const DEV_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// anvil's account 1 key (`0x70997970c51812dc3a010c7d01b50e0d17dc79c8`).
pub const DEV_KEY_1: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// How long anvil may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The key [`DEV_KEY`].
pub fn dev_key() -> SigningKey {
    crate::parse_private_key(DEV_KEY).expect("the dev key is valid")
}

/// The key [`DEV_KEY_1`].
pub fn dev_key_1() -> SigningKey {
    crate::parse_private_key(DEV_KEY_1).expect("the dev key is valid")
}

/// The anvil binary that `cargo xtask tools` installs.
pub fn anvil_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
}

/// A running anvil (automining, chain id [`Anvil::CHAIN_ID`]); killed on drop.
#[derive(Debug)]
pub struct Anvil {
    process: Process,
    url: String,
}

impl Anvil {
    /// The chain id anvil runs with.
    pub const CHAIN_ID: u64 = 1337;

    /// Starts anvil, waits for its `Listening on <address>` line and checks its chain id.
    ///
    /// # Panics
    /// When the binary is missing (run `cargo xtask tools`) or anvil does not start; the
    /// message holds anvil's output.
    pub fn start() -> Anvil {
        Self::start_with(&[])
    }

    /// [`Anvil::start`] with more command-line arguments (e.g. `["--block-time", "1"]`).
    ///
    /// # Panics
    /// When the binary is missing (run `cargo xtask tools`) or anvil does not start.
    pub fn start_with(args: &[&str]) -> Anvil {
        let binary = anvil_binary();
        assert!(
            binary.is_file(),
            "anvil is not installed at {}: run `cargo xtask tools` (npm ci in tools/anvil/)",
            binary.display()
        );
        let program = Program::new(&binary)
            .args(["--host", "127.0.0.1", "--port", "0", "--chain-id"])
            .arg(Self::CHAIN_ID.to_string())
            .args(args);
        // anvil prints its banner, then "Listening on 127.0.0.1:<port>" once it has bound the
        // port: from then on it answers.
        let (process, address) = program
            .start("Listening on ", START_TIMEOUT)
            .unwrap_or_else(|e| panic!("anvil did not start: {e}"));
        let anvil = Anvil { process, url: format!("http://{}", address.trim()) };
        let rpc = crate::rpc::Rpc::new(&anvil.url, START_TIMEOUT);
        match rpc.chain_id() {
            Ok(id) => assert_eq!(id, Self::CHAIN_ID, "anvil's chain id"),
            Err(e) => panic!("anvil did not answer: {e}\n{}", anvil.process.output()),
        }
        anvil
    }

    /// Its JSON-RPC URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A config for this chain: signing with [`DEV_KEY`], receipts polled every 10 ms (anvil
    /// mines each transaction as it arrives), v1 anchors to [`ceramic_anchor::ANCHOR_CONTRACT`]
    /// (usually replaced by a deployed contract with [`Config::with_contract`]) and the
    /// default threshold of `eip155:1337`, block 1.
    pub fn config(&self) -> Config {
        Config::new(self.url.clone(), Self::CHAIN_ID)
            .with_signer(dev_key())
            .with_receipt_polling(Duration::from_millis(10), Duration::from_secs(60))
            .with_request_timeout(Duration::from_secs(10))
    }

    /// Connects with [`Anvil::config`], deploys the anchor contract and reconnects with it
    /// configured: a chain ready to anchor and verify. Returns the chain and the contract's
    /// address.
    ///
    /// # Panics
    /// If anvil refuses the deployment.
    pub fn chain_with_contract(&self) -> (EthChain, Address) {
        let deployer = EthChain::connect(self.config()).expect("connect to anvil");
        let contract = deployer.deploy_contract().expect("deploy the anchor contract");
        let chain =
            EthChain::connect(self.config().with_contract(contract)).expect("connect to anvil");
        (chain, contract)
    }

    /// Kills anvil now (as drop does), e.g. to show a result came from a cache.
    pub fn stop(&mut self) {
        self.process.kill();
    }
}
