//! [`serve`]: the gRPC server (the node service and reflection) on a listener until shutdown.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::Grpc;

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listener's address could not be read.
    #[error("reading the listener's address: {0}")]
    Listener(#[source] std::io::Error),
    /// The gRPC server failed.
    #[error("serving gRPC: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The committed descriptor set does not load (regenerate it with `cargo xtask codegen`).
    #[error("gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Serves `grpc` and reflection on `listener` until `shutdown` completes, then stops accepting
/// connections and lets in-flight requests finish for at most `grace` (graceful HTTP/2 shutdown
/// needs each client to answer; a stuck or idle client must not keep the node from exiting).
/// Dropping the future midway is safe.
///
/// # Errors
/// [`ServeError`].
pub async fn serve(
    grpc: Grpc,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(ServeError::Listener)?;
    tracing::info!(%addr, "serving gRPC");
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        let _ = signalled.send(());
    };
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(ceramic_proto::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let server = tonic::transport::Server::builder()
        .layer(tower::util::MapResponseLayer::new(
            crate::status::oversized_is_resource_exhausted::<tonic::body::Body>,
        ))
        .add_service(grpc.into_server())
        .add_service(reflection)
        .serve_with_incoming_shutdown(
            // TCP_NODELAY: a client with one request in flight per connection would otherwise
            // wait on Nagle + delayed ACK (~40 ms per call; `Server::tcp_nodelay` does not apply
            // to an incoming stream). benches/README.md "node_wire_load" measured it.
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        );
    let grace_over = async move {
        match on_signal.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The server stopped by itself; the other branch completes.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server => result?,
        () = grace_over => {
            tracing::warn!(?grace, "gRPC connections still open after the grace period: dropped");
        }
    }
    tracing::info!("gRPC server stopped");
    Ok(())
}
