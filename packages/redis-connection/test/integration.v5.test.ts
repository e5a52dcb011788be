import { describe } from '@jest/globals'
import { ioredisVersions } from './helpers.js'
import { integrationSuite } from './suites/integration.js'

describe(ioredisVersions[5].label, () => integrationSuite(ioredisVersions[5]))
