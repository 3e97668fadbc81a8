//! Golden vectors made by the JavaScript libraries (`cargo xtask vectors`).
