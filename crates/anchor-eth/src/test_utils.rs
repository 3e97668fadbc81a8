//! A real Ethereum dev chain for tests: [`Anvil`] runs Foundry's `anvil` (installed from npm
//! into `tools/anvil/` by `cargo xtask tools`) on 127.0.0.1 with a port it picks and prints,
//! and kills it on drop.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k256::ecdsa::SigningKey;

use crate::tx::Address;
use crate::{Config, EthChain};

/// anvil's (and hardhat's) well-known account 0 key; its address is
/// `0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266` and it starts with 10,000 ether.
pub const DEV_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// anvil's account 1 key (`0x70997970c51812dc3a010c7d01b50e0d17dc79c8`).
pub const DEV_KEY_1: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// How long anvil may take to print its address and answer `eth_chainId`.
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
    child: Child,
    url: String,
}

impl Anvil {
    /// The chain id anvil runs with.
    pub const CHAIN_ID: u64 = 1337;

    /// Starts anvil and waits until it answers `eth_chainId`.
    ///
    /// # Panics
    /// When the binary is missing (run `cargo xtask tools`) or anvil does not start.
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
        let mut child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", "0", "--chain-id"])
            .arg(Self::CHAIN_ID.to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout);
        let mut address = None;
        let mut line = String::new();
        // anvil prints its banner, then "Listening on 127.0.0.1:<port>".
        while lines.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(rest) = line.trim().strip_prefix("Listening on ") {
                address = Some(rest.to_owned());
                break;
            }
            line.clear();
        }
        let Some(address) = address else {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!("anvil exited without printing its address: {stderr}");
        };
        // Keep reading anvil's request log so that it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        if let Some(mut err) = child.stderr.take() {
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        }
        let anvil = Anvil { child, url: format!("http://{address}") };
        let rpc = crate::rpc::Rpc::new(&anvil.url, Duration::from_secs(5));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match rpc.chain_id() {
                Ok(id) if id == Self::CHAIN_ID => return anvil,
                Ok(id) => panic!("anvil reports chain id {id}"),
                Err(e) if Instant::now() >= deadline => panic!("anvil did not answer: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        self.stop();
    }
}
