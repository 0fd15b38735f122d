/* placeholder for the transpose suite */
int main(void) {
    return 0;
}
