// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.24;

/// A minimal Ceramic anchor contract for development chains: the interface of the Ceramic
/// Anchor Service's contract (CIP-110), `anchorDagCbor(bytes32)` (selector 0x97ad09eb), which
/// emits `DidAnchor(address indexed _service, bytes32 _root)`. Verifiers read the root from the
/// transaction's calldata, not from the event. Unlike the production contract, anyone may call
/// it (the production one allows only the service's addresses).
contract CeramicAnchorServiceV2 {
    /// The service `_service` anchored the Merkle root whose sha2-256 digest is `_root`.
    event DidAnchor(address indexed _service, bytes32 _root);

    /// Records an anchor: `_root` is the sha2-256 digest of a dag-cbor Merkle root.
    function anchorDagCbor(bytes32 _root) external {
        emit DidAnchor(msg.sender, _root);
    }
}
