//! Integration tests of ceramic-anchor-eth against a real anvil.
