// Placeholder main job until @chorus/ucxl and apps/node exist.
console.log('CHORUS DHT workspace is built. The demo network arrives with apps/node.')
