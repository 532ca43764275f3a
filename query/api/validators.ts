// Request validation. A JSON body is checked as sent: "5" where the schema wants a number, or "sends" where it wants
// a list, is refused (400), as docs/api.md says. A query string, path or header can only carry text, so there the
// values are coerced to the schema's types ("28" -> 28, "a" -> ["a"]).
import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';
import { DOCUMENTED_ENUM } from '../documented-enum.js';

// The documented enum is known to Ajv so that it is accepted, and has no rule, so that it checks nothing.
const SHARED = { removeAdditional: false, useDefaults: true, allErrors: false, keywords: [DOCUMENTED_ENUM] };
const fromPool = AjvCompiler();

// Fastify calls a compiler with the route's definition ({ schema, httpPart, … }), though the package's types say a
// bare schema; this is the one place that knows.
type RouteCompile = (route: AjvCompiler.RouteDefinition) => unknown;
type PoolCompile = ReturnType<AjvCompiler.BuildCompilerFromPool>;

// Fastify's own `ajv` server option is not used: these are all the options.
const buildValidator: AjvCompiler.BuildCompilerFromPool = (externalSchemas) => {
  const strict = fromPool(externalSchemas, { customOptions: { ...SHARED, coerceTypes: false } }) as unknown as RouteCompile;
  const coercing = fromPool(externalSchemas, { customOptions: { ...SHARED, coerceTypes: 'array' } }) as unknown as RouteCompile;
  const compile: RouteCompile = (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
  return compile as unknown as PoolCompile;
};

export const schemaController: NonNullable<FastifyServerOptions['schemaController']> = { compilersFactory: { buildValidator } };
