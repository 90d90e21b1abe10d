// The token bucket lives in @chorus/common (the refusal log uses it too); the dht's modules and
// its public exports keep importing it from here.
export { createRateLimiter, type RateLimiter, type RateLimiterInit } from '@chorus/common'
