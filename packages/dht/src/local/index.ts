// The persistent single-process Dht (createLocalDHT) lives here.
export {}
