# The sidequeue image for people who build with Docker (BuildKit):
#   docker build -t sidequeue:0.0.0-dev --build-arg VERSION=0.0.0-dev .
# It makes the same tree as hack/image (`make image`, which needs no Docker
# and is what CI builds and tests): queued, lookupd and manager, static, in
# /usr/local/bin; /etc/passwd and /etc/group naming 65532 nonroot; /tmp;
# no shell; user 65532:65532; no entrypoint (each container names its
# command, found on PATH); WorkingDir /. The digests differ from
# hack/image's (file times, layer compression). Not built here: this
# repository's machines have no Docker; keep it in step with
# hack/image/main.go by hand. VERSION should match internal/version's
# Default unless releasing.
ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=0.0.0-dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN for cmd in queued lookupd manager; do \
      CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
        -ldflags "-s -w -X github.com/sidequeue/sidequeue/internal/version.Version=${VERSION}" \
        -o /rootfs/usr/local/bin/$cmd ./cmd/$cmd || exit 1; \
    done && \
    mkdir -p /rootfs/etc /rootfs/tmp && chmod 1777 /rootfs/tmp && \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' > /rootfs/etc/passwd && \
    printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group

FROM scratch
ARG VERSION=0.0.0-dev
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/bin
WORKDIR /
USER 65532:65532
LABEL org.opencontainers.image.title="sidequeue" \
      org.opencontainers.image.description="NSQ-compatible messaging, native to Kubernetes: queued, lookupd and manager in /usr/local/bin" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/sidequeue/sidequeue" \
      org.opencontainers.image.url="https://github.com/sidequeue/sidequeue"
