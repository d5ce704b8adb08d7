# gatehouse in a container: built with the Rust image, run on slim Debian as a non-root user.
#
#   docker build -t gatehouse .
#   docker run -p 8080:8080 -v gatehouse-data:/var/lib/gatehouse \
#       -e GATEHOUSE_ISSUER=http://localhost:8080 gatehouse
#
# The image's entry point is the `gatehouse` command (default `serve`), so the operator
# commands run the same way: `docker run --rm … gatehouse client list`. See docs/deploying.md.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# --- build -----------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
# cmake and clang for aws-lc-rs's C build. libpq and the OpenSSL it uses are compiled from
# source into the binary (pq-sys `bundled`, openssl-sys `vendored`: perl and make, in this image).
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake clang \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin gatehouse \
 && install -m 0755 target/release/gatehouse /usr/local/bin/gatehouse

# --- run -------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim
# No shared libraries beyond glibc's; CA certificates for SMTP over TLS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/gatehouse --shell /usr/sbin/nologin gatehouse \
 && install -d -o gatehouse -g gatehouse -m 0700 /var/lib/gatehouse
COPY --from=build /usr/local/bin/gatehouse /usr/local/bin/gatehouse

# Listen on every interface inside the container; keep data (the SQLite file if no
# GATEHOUSE_DATABASE_URL is given, the generated master key, mail files) on the volume.
ENV GATEHOUSE_BIND=0.0.0.0:8080 \
    GATEHOUSE_DATA_DIR=/var/lib/gatehouse \
    GATEHOUSE_DATABASE_URL=sqlite:///var/lib/gatehouse/gatehouse.db
USER gatehouse
WORKDIR /var/lib/gatehouse
VOLUME ["/var/lib/gatehouse"]
EXPOSE 8080
ENTRYPOINT ["gatehouse"]
CMD ["serve"]
