/* Session file requests and version 1's collect, each in a child that is the program's uid.
 * Plan then act: the parent validates the request (no fork for a bad one), the child walks the path
 * one component at a time from the workdir's descriptor (openat with O_NOFOLLOW: a symlink anywhere
 * is refused, never followed), acts, and writes the whole answer frame's JSON to a pipe. */
#include "file-ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base64.h"
#include "privilege.h"
#include "protocol.h"

#define MAX_DEPTH 64        /* directory levels a list, delete or collect descends */
#define MAX_TREE_PATH 4096  /* bytes of a path a list or collect reports */
#define DEFAULT_MODE 0644

/* ---- path walking (child side) ---- */

const char *fileop_errno_code(int errnum) {
  switch (errnum) {
  case ENOENT: return ERR_NOT_FOUND;
  case ELOOP: return ERR_SYMLINK;
  case ENOTDIR: return ERR_NOT_DIR;
  case EISDIR: return ERR_IS_DIR;
  case EEXIST: return ERR_EXISTS;
  case ENOTEMPTY: return ERR_IS_DIR;
  case ENOSPC: case EFBIG: case EDQUOT: return ERR_TOO_LARGE;
  case EACCES: case EPERM: case ENAMETOOLONG: case ENXIO: return ERR_BAD_PATH;
  default: return ERR_INTERNAL;
  }
}

/* An error about component `name` of `path`: ENOTDIR on a symlink (O_DIRECTORY|O_NOFOLLOW may say
 * either) is reported as the symlink it is. */
static int component_error(int dirfd, const char *name, const char *path, const char *what, struct agent_error *err) {
  int saved = errno;
  struct stat st;
  if ((saved == ENOTDIR || saved == ELOOP) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    return agent_err(err, ERR_SYMLINK, "path '%s': '%s' is a symlink (never followed)", path, name);
  errno = saved;
  return agent_err_errno(err, fileop_errno_code(saved), "path '%s': %s '%s'", path, what, name);
}

// SECURITY: every directory on the way is opened relative to the previous one with O_NOFOLLOW,
// so neither a symlinked component nor a path swapped during the walk leads outside the workdir.
static int open_dir_at(int dirfd, const char *name, const char *path, bool create, struct agent_error *err) {
  if (create && mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
    return component_error(dirfd, name, path, "mkdir", err);
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return component_error(dirfd, name, path, "open directory", err);
  return fd;
}

/* Opens the directory that holds the last component of `buf` (a mutable copy of `path`, cut at
 * each '/'); *leaf points at that component in buf. */
static int walk_to_leaf(int root, char *buf, const char *path, const char **leaf, bool create, struct agent_error *err) {
  int dir = dup(root);
  if (dir < 0) return agent_err_errno(err, ERR_INTERNAL, "dup");
  char *comp = buf;
  for (char *slash; (slash = strchr(comp, '/')) != NULL; comp = slash + 1) {
    *slash = '\0';
    int next = open_dir_at(dir, comp, path, create, err);
    close(dir);
    if (next < 0) return -1;
    dir = next;
  }
  *leaf = comp;
  return dir;
}

/* walk_to_leaf for a request path (validated: at most 255 bytes, no NUL), copied into buf. */
static int walk_parent(int root, const char *path, char *buf, const char **leaf, bool create, struct agent_error *err) {
  snprintf(buf, RC_MAX_PATH_BYTES + 1, "%s", path);
  return walk_to_leaf(root, buf, path, leaf, create, err);
}

static int64_t mtime_ms(const struct stat *st) {
  return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static const char *type_name(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISLNK(mode)) return "symlink";
  return "other";
}

static json_t *b64_json(const unsigned char *data, size_t len) {
  char *s = base64_encode(data, len);
  if (s == NULL) return NULL;
  json_t *j = json_stringn_nocheck(s, base64_encoded_len(len));
  free(s);
  return j;
}

/* Reads at most `max` bytes of an open regular file; *more when the file held more than that. */
static int read_capped(int fd, size_t max, unsigned char **out, size_t *len, bool *more, struct agent_error *err) {
  unsigned char *buf = malloc(max + 1);
  if (buf == NULL) return agent_err(err, ERR_INTERNAL, "out of memory reading a file");
  ssize_t n = read_full(fd, buf, max + 1);
  if (n < 0) {
    free(buf);
    return agent_err_errno(err, ERR_INTERNAL, "read");
  }
  *more = (size_t)n > max;
  *len = *more ? max : (size_t)n;
  *out = buf;
  return 0;
}

/* ---- the requests (child side) ---- */

struct put_req {
  const char *path;
  unsigned char *content;
  size_t len;
  mode_t mode;
  bool overwrite;
};

static json_t *op_put(int root, const struct put_req *q, struct agent_error *err) {
  char buf[RC_MAX_PATH_BYTES + 1];
  const char *leaf;
  cleanup_close int dir = walk_parent(root, q->path, buf, &leaf, true, err);
  if (dir < 0) return NULL;
  struct stat st;
  if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) return agent_err(err, ERR_SYMLINK, "path '%s': is a symlink (never written through)", q->path), NULL;
    if (S_ISDIR(st.st_mode)) return agent_err(err, ERR_IS_DIR, "path '%s': is a directory", q->path), NULL;
    if (!q->overwrite) return agent_err(err, ERR_EXISTS, "path '%s': exists (overwrite is false)", q->path), NULL;
    if (!S_ISREG(st.st_mode)) return agent_err(err, ERR_BAD_PATH, "path '%s': not a regular file", q->path), NULL;
  } else if (errno != ENOENT) {
    return component_error(dir, leaf, q->path, "stat", err), NULL;
  }
  // SECURITY: O_NOFOLLOW (a symlink planted since the check is refused), O_NONBLOCK (a FIFO
  // planted there cannot block the agent), no O_TRUNC before the type is checked on the descriptor.
  int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (q->overwrite ? 0 : O_EXCL);
  cleanup_close int fd = openat(dir, leaf, flags, q->mode);
  if (fd < 0) return component_error(dir, leaf, q->path, "create", err), NULL;
  if (fstat(fd, &st) < 0) return agent_err_errno(err, ERR_INTERNAL, "fstat"), NULL;
  if (!S_ISREG(st.st_mode)) return agent_err(err, ERR_BAD_PATH, "path '%s': not a regular file", q->path), NULL;
  if (ftruncate(fd, 0) < 0 || write_all(fd, q->content, q->len) < 0 || fchmod(fd, q->mode) < 0)
    return agent_err_errno(err, fileop_errno_code(errno), "path '%s': write", q->path), NULL;
  return json_pack("{s:s}", "type", "ok");
}

/* Opens an existing regular file (never a symlink, FIFO or device) for reading. */
static int open_regular(int dir, const char *leaf, const char *path, struct stat *st, struct agent_error *err) {
  if (fstatat(dir, leaf, st, AT_SYMLINK_NOFOLLOW) < 0) return component_error(dir, leaf, path, "stat", err);
  if (S_ISLNK(st->st_mode)) return agent_err(err, ERR_SYMLINK, "path '%s': is a symlink (never followed)", path);
  if (S_ISDIR(st->st_mode)) return agent_err(err, ERR_IS_DIR, "path '%s': is a directory", path);
  if (!S_ISREG(st->st_mode)) return agent_err(err, ERR_BAD_PATH, "path '%s': not a regular file", path);
  int fd = openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return component_error(dir, leaf, path, "open", err);
  if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) { /* swapped since the check */
    close(fd);
    return agent_err(err, ERR_BAD_PATH, "path '%s': not a regular file", path);
  }
  return fd;
}

static json_t *op_get(int root, const char *path, size_t max, struct agent_error *err) {
  char buf[RC_MAX_PATH_BYTES + 1];
  const char *leaf;
  cleanup_close int dir = walk_parent(root, path, buf, &leaf, false, err);
  if (dir < 0) return NULL;
  struct stat st;
  cleanup_close int fd = open_regular(dir, leaf, path, &st, err);
  if (fd < 0) return NULL;
  if ((uint64_t)st.st_size > max)
    return agent_err(err, ERR_TOO_LARGE, "path '%s': %lld bytes, more than max_bytes %zu", path, (long long)st.st_size, max), NULL;
  cleanup_free unsigned char *data = NULL;
  size_t len;
  bool more;
  if (read_capped(fd, max, &data, &len, &more, err) < 0) return NULL;
  if (more) return agent_err(err, ERR_TOO_LARGE, "path '%s': grew past max_bytes %zu", path, max), NULL;
  json_t *content = b64_json(data, len);
  if (content == NULL) return agent_err(err, ERR_INTERNAL, "out of memory"), NULL;
  return json_pack("{s:s, s:s, s:I, s:i, s:I, s:o}", "type", "file", "path", path, "size", (json_int_t)len, "mode",
                   (int)(st.st_mode & 07777), "mtime_ms", (json_int_t)mtime_ms(&st), "content_b64", content);
}

/* A directory tree walk shared by list and collect: calls visit for every entry (sorted per
 * directory), descending into directories (never through a symlink) while visit returns 1. */
struct tree_walk {
  int (*visit)(struct tree_walk *w, int dirfd, const char *name, const char *path, const struct stat *st);
  bool recursive, stop, truncated;
  struct agent_error *err;
};

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* The entry names of an open directory (its own copy of the descriptor), sorted. */
static int read_names(int dirfd, char ***out, size_t *n, struct agent_error *err) {
  int fd = dup(dirfd);
  if (fd < 0) return agent_err_errno(err, ERR_INTERNAL, "dup");
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return agent_err_errno(err, ERR_INTERNAL, "fdopendir");
  }
  rewinddir(d);
  char **names = NULL;
  size_t len = 0, cap = 0;
  int rc = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (len == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(names, cap * sizeof *p);
      if (p == NULL) {
        rc = agent_err(err, ERR_INTERNAL, "out of memory listing a directory");
        break;
      }
      names = p;
    }
    if ((names[len] = strdup(e->d_name)) == NULL) {
      rc = agent_err(err, ERR_INTERNAL, "out of memory listing a directory");
      break;
    }
    len++;
  }
  closedir(d);
  if (rc < 0) return free_names(names, len), -1;
  if (len > 0) qsort(names, len, sizeof *names, compare_names);
  *out = names;
  *n = len;
  return 0;
}

static int walk_tree(struct tree_walk *w, int dirfd, const char *prefix, int depth) {
  char **names;
  size_t n;
  if (read_names(dirfd, &names, &n, w->err) < 0) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && !w->stop && rc == 0; i++) {
    char path[MAX_TREE_PATH];
    int len = snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "/" : "", names[i]);
    struct stat st;
    if (len < 0 || (size_t)len >= sizeof path) {
      w->truncated = true;
      continue;
    }
    if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) continue; /* gone meanwhile */
    int go = w->visit(w, dirfd, names[i], path, &st);
    if (go < 0) rc = -1;
    else if (go > 0 && S_ISDIR(st.st_mode) && w->recursive) {
      if (depth >= MAX_DEPTH) {
        w->truncated = true;
        continue;
      }
      int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue; /* swapped for a symlink, or unreadable: not followed */
      rc = walk_tree(w, sub, path, depth + 1);
      close(sub);
    }
  }
  free_names(names, n);
  return rc;
}

struct list_walk {
  struct tree_walk w;
  json_t *entries;
  size_t max;
};

static int list_visit(struct tree_walk *w, int dirfd, const char *name, const char *path, const struct stat *st) {
  (void)dirfd, (void)name;
  struct list_walk *l = (struct list_walk *)w;
  if (json_array_size(l->entries) >= l->max) {
    w->truncated = w->stop = true;
    return 0;
  }
  json_t *e = json_pack("{s:s, s:s, s:I, s:i, s:I}", "path", path, "type", type_name(st->st_mode), "size",
                        (json_int_t)(S_ISREG(st->st_mode) ? st->st_size : 0), "mode", (int)(st->st_mode & 07777),
                        "mtime_ms", (json_int_t)mtime_ms(st));
  if (e == NULL || json_array_append_new(l->entries, e) < 0) return agent_err(w->err, ERR_INTERNAL, "out of memory");
  return 1;
}

static int compare_entries(const void *a, const void *b) {
  return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "path")),
                json_string_value(json_object_get(*(json_t *const *)b, "path")));
}

/* The walk visits each directory's entries in order, but "a/b" sorts after "a.txt" while the walk
 * emits it first: sort the whole list by path. */
static json_t *sorted_array(json_t *arr) {
  size_t n = json_array_size(arr);
  json_t **items = malloc((n ? n : 1) * sizeof *items);
  if (items == NULL) return NULL;
  for (size_t i = 0; i < n; i++) items[i] = json_incref(json_array_get(arr, i));
  qsort(items, n, sizeof *items, compare_entries);
  json_t *out = json_array();
  for (size_t i = 0; i < n; i++)
    if (out != NULL && json_array_append_new(out, items[i]) < 0) out = NULL;
  free(items);
  return out;
}

/* The directory a list or collect starts from: the workdir itself for "", else path's directory. */
static int open_tree_root(int root, const char *path, struct agent_error *err) {
  if (path[0] == '\0') {
    int fd = dup(root);
    return fd < 0 ? agent_err_errno(err, ERR_INTERNAL, "dup") : fd;
  }
  char buf[RC_MAX_PATH_BYTES + 1];
  const char *leaf;
  cleanup_close int dir = walk_parent(root, path, buf, &leaf, false, err);
  if (dir < 0) return -1;
  return open_dir_at(dir, leaf, path, false, err);
}

static json_t *op_list(int root, const char *path, bool recursive, size_t max, struct agent_error *err) {
  cleanup_close int fd = open_tree_root(root, path, err);
  if (fd < 0) return NULL;
  struct list_walk l = {.w = {.visit = list_visit, .recursive = recursive, .err = err}, .entries = json_array(), .max = max};
  if (l.entries == NULL) return agent_err(err, ERR_INTERNAL, "out of memory"), NULL;
  json_t *sorted = NULL;
  if (walk_tree(&l.w, fd, path, 0) == 0) sorted = sorted_array(l.entries);
  json_decref(l.entries);
  if (sorted == NULL) return agent_err(err, ERR_INTERNAL, "out of memory"), NULL;
  return json_pack("{s:s, s:b, s:o}", "type", "entries", "truncated", l.w.truncated, "entries", sorted);
}

static int remove_tree(int dirfd, const char *name, const char *path, int depth, struct agent_error *err);

static int remove_entries(int fd, const char *path, int depth, struct agent_error *err) {
  char **names;
  size_t n;
  if (read_names(fd, &names, &n, err) < 0) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    struct stat st;
    if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISDIR(st.st_mode)) rc = remove_tree(fd, names[i], path, depth + 1, err);
    else if (unlinkat(fd, names[i], 0) < 0 && errno != ENOENT) rc = component_error(fd, names[i], path, "unlink", err);
  }
  free_names(names, n);
  return rc;
}

// SECURITY: each level is opened with O_NOFOLLOW from its parent's descriptor, so a symlink in
// the tree is unlinked itself and its target never touched.
static int remove_tree(int dirfd, const char *name, const char *path, int depth, struct agent_error *err) {
  if (depth >= MAX_DEPTH) return agent_err(err, ERR_BAD_PATH, "path '%s': deeper than %d levels", path, MAX_DEPTH);
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return component_error(dirfd, name, path, "open directory", err);
  int rc = remove_entries(fd, path, depth, err);
  close(fd);
  if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0) rc = component_error(dirfd, name, path, "rmdir", err);
  return rc;
}

static json_t *op_delete(int root, const char *path, bool recursive, struct agent_error *err) {
  char buf[RC_MAX_PATH_BYTES + 1];
  const char *leaf;
  cleanup_close int dir = walk_parent(root, path, buf, &leaf, false, err);
  if (dir < 0) return NULL;
  struct stat st;
  if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) return component_error(dir, leaf, path, "stat", err), NULL;
  int rc;
  if (!S_ISDIR(st.st_mode)) rc = unlinkat(dir, leaf, 0) < 0 ? component_error(dir, leaf, path, "unlink", err) : 0;
  else if (recursive) rc = remove_tree(dir, leaf, path, 0, err);
  else if (unlinkat(dir, leaf, AT_REMOVEDIR) < 0)
    rc = errno == ENOTEMPTY || errno == EEXIST ? agent_err(err, ERR_IS_DIR, "path '%s': directory not empty (recursive is false)", path)
                                               : component_error(dir, leaf, path, "rmdir", err);
  else rc = 0;
  return rc < 0 ? NULL : json_pack("{s:s}", "type", "ok");
}

/* ---- collect (version 1's outputs) ---- */

struct collect_walk {
  struct tree_walk w;
  json_t *paths; /* regular files found, in walk order */
  size_t max_files;
};

static int collect_visit(struct tree_walk *w, int dirfd, const char *name, const char *path, const struct stat *st) {
  (void)dirfd, (void)name;
  struct collect_walk *c = (struct collect_walk *)w;
  if (!S_ISREG(st->st_mode)) return S_ISDIR(st->st_mode); /* symlinks, FIFOs, sockets: skipped */
  if (json_array_size(c->paths) >= c->max_files) {
    w->truncated = w->stop = true;
    return 0;
  }
  json_t *e = json_pack("{s:s}", "path", path);
  if (e == NULL || json_array_append_new(c->paths, e) < 0) return agent_err(w->err, ERR_INTERNAL, "out of memory");
  return 1;
}

/* Opens path (relative to root; possibly longer than one request path) as a regular file. */
static int open_tree_file(int root, const char *path, struct stat *st, struct agent_error *err) {
  char buf[MAX_TREE_PATH];
  snprintf(buf, sizeof buf, "%s", path);
  const char *leaf;
  int dir = walk_to_leaf(root, buf, path, &leaf, false, err);
  if (dir < 0) return -1;
  int fd = open_regular(dir, leaf, path, st, err);
  close(dir);
  return fd;
}

/* Adds one file's content (within the bytes left) to its entry. */
static int collect_file(int root, json_t *entry, size_t *left, bool *cut, struct agent_error *err) {
  struct stat st;
  struct agent_error skip = {0};
  int fd = open_tree_file(root, json_string_value(json_object_get(entry, "path")), &st, &skip);
  unsigned char *data = NULL;
  size_t len = 0;
  bool more = false;
  if (fd >= 0) {
    int rc = read_capped(fd, *left, &data, &len, &more, err);
    close(fd);
    if (rc < 0) return -1;
  }
  json_t *content = b64_json(data ? data : (const unsigned char *)"", len);
  free(data);
  if (content == NULL) return agent_err(err, ERR_INTERNAL, "out of memory");
  /* A file swapped for something else since the walk comes back empty and cut. */
  bool truncated = fd < 0 || more;
  *left -= len;
  *cut = *cut || truncated;
  if (json_object_set_new(entry, "size", json_integer(fd >= 0 ? (json_int_t)(more ? (size_t)st.st_size : len) : 0)) < 0 ||
      json_object_set_new(entry, "content_b64", content) < 0 || json_object_set_new(entry, "truncated", json_boolean(truncated)) < 0)
    return agent_err(err, ERR_INTERNAL, "out of memory");
  return 0;
}

static json_t *op_collect(int root, const struct job_collect *c, struct agent_error *err) {
  struct agent_error missing = {0};
  cleanup_close int fd = open_tree_root(root, c->dir, &missing);
  json_t *outputs = json_array();
  struct collect_walk w = {.w = {.visit = collect_visit, .recursive = true, .err = err}, .paths = outputs, .max_files = c->max_files};
  if (outputs == NULL) return agent_err(err, ERR_INTERNAL, "out of memory"), NULL;
  /* No outputs directory (or a symlink in its place, never followed): nothing to collect. */
  if (fd >= 0 && walk_tree(&w.w, fd, c->dir, 0) < 0) return json_decref(outputs), NULL;
  json_t *sorted = sorted_array(outputs);
  json_decref(outputs);
  if (sorted == NULL) return agent_err(err, ERR_INTERNAL, "out of memory"), NULL;
  size_t left = c->max_bytes, i;
  bool cut = w.w.truncated;
  json_t *e;
  json_array_foreach(sorted, i, e) if (collect_file(root, e, &left, &cut, err) < 0) return json_decref(sorted), NULL;
  return json_pack("{s:o, s:b}", "outputs", sorted, "outputs_truncated", cut);
}

/* ---- running an operation in a child that is the program's uid ---- */

struct op {
  const char *type; /* put, get, list, delete, collect */
  const char *path;
  struct put_req put;
  size_t max;
  bool recursive;
  const struct job_collect *collect;
};

static json_t *op_run(int root, const struct op *o, struct agent_error *err) {
  if (strcmp(o->type, "put") == 0) return op_put(root, &o->put, err);
  if (strcmp(o->type, "get") == 0) return op_get(root, o->path, o->max, err);
  if (strcmp(o->type, "list") == 0) return op_list(root, o->path, o->recursive, o->max, err);
  if (strcmp(o->type, "delete") == 0) return op_delete(root, o->path, o->recursive, err);
  return op_collect(root, o->collect, err);
}

static json_t *error_json(const struct agent_error *err) {
  return json_pack("{s:s, s:s, s:s}", "type", "error", "code", err->code ? err->code : ERR_INTERNAL, "message", err->message);
}

/* The child: closes every descriptor but the workdir and the report pipe, becomes the program's
 * uid, acts, writes the answer's JSON text (an error object on failure) and exits. */
static __attribute__((noreturn)) void op_child(int root, int report, const struct op *o) {
  // SECURITY: no agent descriptor (the host channel, other execs' pipes) stays open in a process
  // of the program's uid.
  int lo = root < report ? root : report, hi = root < report ? report : root;
  if (lo > 0) (void)close_range(0, (unsigned)lo - 1, 0);
  if (hi > lo + 1) (void)close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
  (void)close_range((unsigned)hi + 1, ~0U, 0);
  struct agent_error err = {0};
  json_t *answer = NULL;
  if (privilege_drop_to_program() < 0) agent_err_errno(&err, ERR_INTERNAL, "dropping to the program's uid");
  else answer = op_run(root, o, &err);
  if (answer == NULL) answer = error_json(&err);
  char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
  if (text == NULL || write_all(report, text, strlen(text)) < 0) _exit(2);
  _exit(0);
}

/* Reads the child's whole answer (at most one result frame; *over when it was longer). */
static char *read_answer(int fd, bool *over) {
  size_t len = 0, cap = 65536;
  char *buf = malloc(cap + 1);
  while (buf != NULL) {
    if (len == cap) {
      if (cap >= RC_MAX_RESULT_FRAME) {
        *over = true;
        break;
      }
      char *p = realloc(buf, cap * 2 + 1);
      if (p == NULL) break;
      buf = p;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) {
      buf[len] = '\0';
      return len > 0 ? buf : (free(buf), NULL);
    }
    len += (size_t)n;
  }
  free(buf);
  return NULL;
}

/* Runs o in a child; returns its answer as a JSON object (an error object included), or NULL with
 * *err when the child could not run or died without a complete answer. */
static json_t *run_op(int root, const struct op *o, struct agent_error *err) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) return agent_err_errno(err, ERR_INTERNAL, "pipe"), NULL;
  pid_t pid = fork();
  if (pid < 0) {
    close(report[0]);
    close(report[1]);
    return agent_err_errno(err, ERR_INTERNAL, "fork"), NULL;
  }
  if (pid == 0) {
    close(report[0]);
    op_child(root, report[1], o);
  }
  close(report[1]);
  bool over = false;
  char *text = read_answer(report[0], &over);
  close(report[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (over) return agent_err(err, ERR_TOO_LARGE, "the %s answer is larger than a frame (%d bytes)", o->type, RC_MAX_RESULT_FRAME), NULL;
  json_t *answer = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  if (answer == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    json_decref(answer);
    return agent_err(err, ERR_INTERNAL, "the %s child died without an answer", o->type), NULL;
  }
  return answer;
}

/* ---- request parsing (parent side) ---- */

static int get_path(json_t *req, bool allow_empty, const char **out, struct agent_error *err) {
  json_t *p = json_object_get(req, "path");
  if (!json_is_string(p)) return agent_err(err, ERR_BAD_REQUEST, "path: must be a string");
  const char *why;
  *out = json_string_value(p);
  size_t len = json_string_length(p);
  if (allow_empty && len == 0) return 0;
  if (path_validate(*out, len, &why) < 0) return agent_err(err, ERR_BAD_PATH, "path: %s", why);
  return 0;
}

static int get_bool(json_t *req, const char *key, bool *out, struct agent_error *err) {
  json_t *v = json_object_get(req, key);
  if (v == NULL) return 0;
  if (!json_is_boolean(v)) return agent_err(err, ERR_BAD_REQUEST, "%s: must be a boolean", key);
  *out = json_is_true(v);
  return 0;
}

static int get_size(json_t *req, const char *key, size_t max, size_t *out, struct agent_error *err) {
  json_t *v = json_object_get(req, key);
  if (v == NULL) return *out = max, 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
    return agent_err(err, ERR_BAD_REQUEST, "%s: must be an integer in [0, %zu]", key, max);
  *out = (size_t)json_integer_value(v);
  return 0;
}

static int parse_op(const char *type, json_t *req, struct op *o, struct agent_error *err) {
  *o = (struct op){.type = type, .put = {.mode = DEFAULT_MODE, .overwrite = true}};
  bool is_list = strcmp(type, "list") == 0;
  if (get_path(req, is_list, &o->path, err) < 0) return -1;
  if (strcmp(type, "put") == 0) {
    json_t *c = json_object_get(req, "content_b64");
    size_t mode;
    if (!json_is_string(c)) return agent_err(err, ERR_BAD_REQUEST, "content_b64: must be a string");
    int rc = base64_decode(json_string_value(c), json_string_length(c), &o->put.content, &o->put.len);
    if (rc == -2) return agent_err(err, ERR_INTERNAL, "content_b64: out of memory");
    if (rc < 0) return agent_err(err, ERR_BAD_REQUEST, "content_b64: invalid base64");
    if (get_size(req, "mode", 0777, &mode, err) < 0 || get_bool(req, "overwrite", &o->put.overwrite, err) < 0) return -1;
    o->put.mode = json_object_get(req, "mode") ? (mode_t)mode : DEFAULT_MODE;
    o->put.path = o->path;
    return 0;
  }
  if (strcmp(type, "get") == 0) return get_size(req, "max_bytes", RC_MAX_GET_BYTES, &o->max, err);
  if (get_bool(req, "recursive", &o->recursive, err) < 0) return -1;
  if (is_list) return get_size(req, "max_entries", RC_MAX_LIST_ENTRIES, &o->max, err);
  return 0;
}

char *fileop_answer(int root, const char *type, json_t *req, json_int_t id) {
  struct agent_error err = {0};
  struct op o;
  json_t *answer = NULL;
  if (parse_op(type, req, &o, &err) == 0) answer = run_op(root, &o, &err);
  free(o.put.content);
  if (answer == NULL) answer = error_json(&err);
  if (answer == NULL || json_object_set_new(answer, "id", json_integer(id)) < 0) return json_decref(answer), NULL;
  char *text = json_dumps(answer, JSON_COMPACT);
  json_decref(answer);
  return text;
}

int fileop_collect(int root, const struct job_collect *c, json_t **outputs, bool *truncated, struct agent_error *err) {
  struct op o = {.type = "collect", .collect = c};
  json_t *answer = run_op(root, &o, err);
  if (answer == NULL) return -1;
  json_t *list = json_object_get(answer, "outputs");
  if (!json_is_array(list)) {
    const char *msg = json_string_value(json_object_get(answer, "message"));
    agent_err(err, ERR_INTERNAL, "collecting outputs: %s", msg ? msg : "no answer");
    json_decref(answer);
    return -1;
  }
  *outputs = json_incref(list);
  *truncated = json_is_true(json_object_get(answer, "outputs_truncated"));
  json_decref(answer);
  return 0;
}
