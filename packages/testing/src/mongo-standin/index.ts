export { MongoStandIn, type MongoStandInOptions } from './server.js'
