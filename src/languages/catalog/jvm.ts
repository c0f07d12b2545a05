import type { LanguageSpec } from '../types.js';
import { hello, helloAs } from './conformance.js';

/** Where the shared layer's JDK lives; Debian's launcher scripts (groovy, kotlinc, scala) look for it here. */
const JAVA_HOME = '/usr/lib/jvm/java-17-openjdk-amd64';
/** Serial GC and C1 only: a short-lived JVM starts faster and stays small. */
const JVM_FLAGS = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'] as const;
/** What every JVM needs beyond the defaults: memory and threads. */
const JVM_LIMITS = { memoryBytes: 1024 * 1024 * 1024, pids: 256 } as const;

/** A class whose body declares `static void main(` before any other class begins. */
const MAIN_CLASS = '^[ \\t]*(?:(?:public|final|abstract)\\s+)*class\\s+(\\w+)[^{]{0,300}\\{(?:(?!\\bclass\\s)[\\s\\S])*?\\bstatic\\s+void\\s+main\\s*\\(';

const JAVA_HELLO =
  'import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n' +
  '        String name = new Scanner(System.in).nextLine();\n' +
  '        System.out.println("Hello, " + name + "!");\n' +
  '        int s = 0;\n        for (int i = 1; i <= 100; i++) s += i;\n        System.out.println(s);\n    }\n}\n';

const SCALA_HELLO =
  'object Main {\n  def main(args: Array[String]): Unit = {\n    val name = scala.io.StdIn.readLine()\n' +
  '    println(s"Hello, $name!")\n    println((1 to 100).sum)\n  }\n}\n';

/** JVM languages, all on the shared OpenJDK layer: they need more memory, pids and time than most. */
export const JVM: readonly LanguageSpec[] = [
  {
    id: 'java',
    name: 'Java',
    family: 'jvm',
    aliases: [],
    image: 'jdk',
    fileName: 'Main.java',
    // javac insists that a public top-level type lives in a file of its name; without one, the
    // class declaring main() is the one to run ({stem}).
    unitNaming: {
      sources: ['^public\\s+(?:(?:final|abstract|sealed|non-sealed|strictfp)\\s+)*(?:class|interface|enum|record)\\s+(\\w+)'],
      entry: [MAIN_CLASS],
    },
    extensions: ['.java'],
    compile: ['javac', ...JVM_FLAGS.map((flag) => `-J${flag}`), '-encoding', 'UTF-8', '-d', '.', '{sources}'],
    run: ['java', ...JVM_FLAGS, '-cp', '.', '{stem}', '{args}'],
    limits: { ...JVM_LIMITS, compileTimeoutMs: 60_000 },
    versionProbe: ['java', '-version'],
    conformance: hello(JAVA_HELLO),
    namingCases: [
      helloAs('public class Main in test.java (Piston names every file test.<ext>)', [{ name: 'test.java', content: JAVA_HELLO }]),
      helloAs('no public class: the class declaring main() runs, after a helper class', [
        {
          name: 'test.java',
          content:
            'import java.util.Scanner;\n\nclass Sum {\n    static int upTo(int n) { return n * (n + 1) / 2; }\n}\n\n' +
            'class Program {\n    public static void main(String[] args) {\n' +
            '        System.out.println("Hello, " + new Scanner(System.in).nextLine() + "!");\n' +
            '        System.out.println(Sum.upTo(100));\n    }\n}\n',
        },
      ]),
      helloAs('public classes in files named otherwise', [
        { name: 'main.java', content: JAVA_HELLO.replace(/int s = 0;[^]*println\(s\);/, 'System.out.println(Sum.upTo(100));') },
        { name: 'lib/sum.java', content: 'public final class Sum {\n    static int upTo(int n) { return n * (n + 1) / 2; }\n}\n' },
      ]),
    ],
    compileError: { code: 'public class Main {\n    public static void main(String[] args) {\n        int x = "nope";\n    }\n}\n', message: 'incompatible types' },
  },
  {
    id: 'clojure',
    name: 'Clojure',
    family: 'jvm',
    aliases: ['clj'],
    image: 'clojure',
    fileName: 'main.clj',
    extensions: ['.clj'],
    run: ['clojure', '{file}', '{args}'],
    limits: { ...JVM_LIMITS, runTimeoutMs: 20_000 },
    versionProbe: ['clojure', '-e', '(print (clojure-version))'],
    conformance: hello('(let [name (read-line)]\n  (println (str "Hello, " name "!"))\n  (println (reduce + (range 1 101))))\n'),
  },
  {
    id: 'groovy',
    name: 'Groovy',
    family: 'jvm',
    aliases: [],
    image: 'groovy',
    fileName: 'main.groovy',
    extensions: ['.groovy'],
    run: ['groovy', '{file}', '{args}'],
    // Debian's groovy script looks for the JVM through JAVA_HOME (default-java is not installed).
    env: { JAVA_HOME },
    limits: { ...JVM_LIMITS, runTimeoutMs: 20_000 },
    versionProbe: ['env', `JAVA_HOME=${JAVA_HOME}`, 'groovy', '--version'],
    conformance: hello('def name = System.in.newReader().readLine()\nprintln "Hello, ${name}!"\nprintln((1..100).sum())\n'),
  },
  {
    id: 'kotlin',
    name: 'Kotlin',
    family: 'jvm',
    aliases: ['kt'],
    image: 'kotlin',
    fileName: 'main.kt',
    extensions: ['.kt'],
    // A self-contained jar: kotlinc finds the main function and writes it into the manifest.
    compile: ['kotlinc', '-nowarn', '-include-runtime', '-d', 'main.jar', '{sources}'],
    run: ['java', ...JVM_FLAGS, '-jar', 'main.jar', '{args}'],
    env: { JAVA_HOME, JAVA_OPTS: JVM_FLAGS.join(' ') },
    limits: { ...JVM_LIMITS, compileTimeoutMs: 90_000 },
    // kotlinc -version says only "1.3-SNAPSHOT"; the package knows the release.
    versionProbe: ['dpkg-query', '-W', '-f', '${Version}', 'kotlin'],
    conformance: hello(
      'fun main() {\n    val name = readLine() ?: ""\n    println("Hello, $name!")\n    println((1..100).sum())\n}\n',
    ),
    compileError: { code: 'fun main() {\n    val x: Int = "nope"\n    println(x)\n}\n', message: 'type mismatch' },
  },
  {
    id: 'scala',
    name: 'Scala',
    family: 'jvm',
    aliases: ['sc'],
    image: 'scala',
    fileName: 'Main.scala',
    // The main object decides the class to run ({stem}); scalac itself does not mind file names.
    unitNaming: {
      entry: [
        '^[ \\t]*object\\s+(\\w+)\\s+extends\\s+App\\b',
        '^[ \\t]*object\\s+(\\w+)[^{]{0,300}\\{(?:(?!\\bobject\\s)[\\s\\S])*?\\bdef\\s+main\\s*\\(',
        '^[ \\t]*object\\s+(\\w+)',
      ],
    },
    forms: [
      {
        name: 'Scala 3',
        matches: '^[ \\t]*@main\\b|^[ \\t]*object\\s+\\w+(?:\\s+extends\\s+\\w+)?\\s*:[ \\t]*$',
        unsupported:
          'Scala 3 syntax (an @main method, or an object opened with a colon) needs a Scala 3 compiler, and this ' +
          'service has Scala 2.11 only (no Scala 3 compiler is packaged in Debian or on npm); write ' +
          '`object Main { def main(args: Array[String]): Unit = { ... } }` instead',
      },
    ],
    extensions: ['.scala'],
    compile: ['scalac', '-nowarn', '-d', '.', '{sources}'],
    run: ['scala', '-nc', '-cp', '.', '{stem}', '{args}'],
    env: { JAVA_HOME, JAVA_OPTS: [...JVM_FLAGS, '-Xss4m'].join(' ') },
    limits: { ...JVM_LIMITS, compileTimeoutMs: 90_000 },
    versionProbe: ['env', `JAVA_HOME=${JAVA_HOME}`, 'scala', '-version'],
    conformance: hello(SCALA_HELLO),
    namingCases: [
      helloAs('object Main in test.scala', [{ name: 'test.scala', content: SCALA_HELLO }]),
      helloAs('object extends App after a helper object, in test.scala', [
        {
          name: 'test.scala',
          content:
            'object Sum {\n  def upTo(n: Int): Int = (1 to n).sum\n}\n\n' +
            'object Hello extends App {\n  println(s"Hello, ${scala.io.StdIn.readLine()}!")\n  println(Sum.upTo(100))\n}\n',
        },
      ]),
      {
        title: 'Scala 3 @main is refused, naming the gap',
        files: [{ name: 'test.scala', content: '@main def hello(): Unit =\n  println("Hello, World!")\n' }],
        error: 'needs a Scala 3 compiler',
      },
    ],
    compileError: { code: 'object Main {\n  def main(args: Array[String]): Unit = {\n    val x: Int = "nope"\n  }\n}\n', message: 'type mismatch' },
  },
];
