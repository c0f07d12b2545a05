/** A first program per language id, shown when the language is picked with an untouched editor. */
export const SAMPLES: Record<string, string> = {
  python: 'import sys\nname = sys.stdin.readline().strip() or "world"\nprint(f"Hello, {name}!")\n',
  'python-datascience': 'import numpy as np\nprint(np.arange(10).mean())\n',
  javascript: 'console.log("Hello, world!");\n',
  typescript: 'const greeting: string = "Hello, world!";\nconsole.log(greeting);\n',
  bash: 'echo "Hello, $(uname -s)!"\n',
  c: '#include <stdio.h>\n\nint main(void) {\n    puts("Hello, world!");\n    return 0;\n}\n',
  cpp: '#include <iostream>\n\nint main() {\n    std::cout << "Hello, world!" << std::endl;\n}\n',
  go: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("Hello, world!")\n}\n',
  rust: 'fn main() {\n    println!("Hello, world!");\n}\n',
  java: 'public class Main {\n    public static void main(String[] args) {\n        System.out.println("Hello, world!");\n    }\n}\n',
  ruby: 'puts "Hello, world!"\n',
};

/** The first cell offered in a session's interpreter. */
export const FIRST_CELL = 'import matplotlib.pyplot as plt\nplt.plot([1, 4, 2, 5])\nplt.title("a chart")\nplt.show()\n';
