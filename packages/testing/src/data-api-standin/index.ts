export { DataApiStandIn, type DataApiStandInOptions } from './server.js'
