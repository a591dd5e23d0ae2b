# syntax=docker/dockerfile:1
# Build stage: compile the release binary (migrations are embedded at compile time).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY assets ./assets
# The manifest names the benchmarks, so cargo wants their sources even for a plain build.
COPY benches ./benches
RUN cargo build --release --locked && strip target/release/b1bridge

# Runtime stage: a small Debian with CA certificates, running as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin b1bridge
COPY --from=build /src/target/release/b1bridge /usr/local/bin/b1bridge
USER 10001:10001
ENV B1BRIDGE_LISTEN=0.0.0.0:8080 RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["b1bridge"]
CMD ["serve"]
