import { describe } from '@jest/globals'
import { ioredisVersions } from './helpers.js'
import { lambdaSuite } from './suites/lambda.js'

describe(ioredisVersions[6].label, () => lambdaSuite(ioredisVersions[6]))
