# Redoubt node image. No base image can be pulled here: the image is our static binary alone.
# Build it with scripts/build-image.sh (it stages the binary in target/image/).
FROM scratch
COPY target/image/redoubt /redoubt
EXPOSE 6379 6380 16379
ENTRYPOINT ["/redoubt"]
CMD ["--config", "/data/redoubt.toml"]
