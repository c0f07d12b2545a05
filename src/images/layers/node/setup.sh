# Node looks for a bare `require('x')` or `import 'x'` in node_modules/ of the program's directory
# and of each directory above it, ending at /node_modules: linking the image's npm tree there makes
# its packages resolvable from wherever a program runs (/work, /tmp, …), by require and import alike
# (NODE_PATH would serve require only). Relative, so it points into the image, whatever mounts it.
ln -sfn opt/runner-codes/npm/node_modules /node_modules
