# syntax=docker/dockerfile:1
# prescale's container image: `prescale operator` by default (any subcommand works: `docker run IMAGE simulate ...`).
# Build from the repository root:  docker build -t ghcr.io/prescale/prescale:0.1.0 .
# (Not built in this project's CI, which has no Docker engine; .ci/check-install checks its structure.)

FROM rust:1.95-bookworm AS build
WORKDIR /src
# rust-toolchain.toml is left out by .dockerignore: the image's own 1.95 toolchain builds without rustup fetching
# the rustfmt/clippy components the file asks for.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p prescale \
    && strip --strip-debug target/release/prescale \
    && cp target/release/prescale /prescale

# glibc, libgcc and CA certificates, no shell; runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /prescale /prescale
USER 65532:65532
EXPOSE 8080 8081 6443
ENTRYPOINT ["/prescale"]
CMD ["operator"]
