/**
 * The external tools the broker needs: checking that Java and Maven are
 * installed, with an error saying what to install when they are not.
 */
import { join } from 'node:path';
import { isEnoent, run, type RunResult } from '../../common/processes.js';

const MIN_JAVA = 17;

function javaBin(): string {
  // Prefer JAVA_HOME like Kafka's own scripts do, so a user can pick a JDK.
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Parses `java -version` output: "17.0.15", "21", or the old "1.8.0_392". */
export function parseJavaMajor(versionOutput: string): number | null {
  const match = /version "([^"]+)"/.exec(versionOutput);
  if (!match?.[1]) return null;
  const parts = match[1].split(/[._-]/);
  const first = Number.parseInt(parts[0] ?? '', 10);
  if (first === 1) return Number.parseInt(parts[1] ?? '', 10);
  return Number.isNaN(first) ? null : first;
}

export async function checkJava(): Promise<string> {
  const java = javaBin();
  let result: RunResult;
  try {
    result = await run(java, ['-version']);
  } catch (err) {
    if (!isEnoent(err)) throw err;
    throw new Error(
      `Java was not found (${java}). The local Kafka broker needs Java ${MIN_JAVA} or newer: ` +
        `install one (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME.`,
    );
  }
  const major = parseJavaMajor(result.stderr + result.stdout);
  if (major === null) throw new Error(`Could not read the Java version from "${java} -version":\n${result.stderr}`);
  if (major < MIN_JAVA) {
    throw new Error(
      `Java ${major} found (${java}), but the local Kafka broker needs Java ${MIN_JAVA} or newer: ` +
        `install a newer JDK (apt-get install openjdk-17-jre-headless) or point JAVA_HOME at one.`,
    );
  }
  return java;
}

export async function checkMaven(): Promise<void> {
  try {
    const result = await run('mvn', ['-v']);
    if (result.code !== 0) throw new Error(`"mvn -v" exited with ${result.code}:\n${result.stderr}`);
  } catch (err) {
    if (!isEnoent(err)) throw err;
    throw new Error(
      'Maven (mvn) was not found. It is needed once to download the Kafka jars from Maven Central: ' +
        'install it (Debian/Ubuntu: apt-get install maven) and try again.',
    );
  }
}
